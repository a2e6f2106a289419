"""piao-xls: PIAO "Performance" plans to protected Excel workbooks and back.

Data flows one way: plan file -> plan model -> layout -> workbook -> (people fill it)
-> reader -> scores -> summary. The pure core (``model``, ``targets``, ``scoring``,
``layout``) does no I/O; ``planfile``, ``writer``, ``reader`` and ``cli`` are adapters.
"""

__version__ = "0.1.0"
