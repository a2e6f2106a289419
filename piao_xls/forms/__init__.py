"""Stage 2, the forms: layout of every cell, styles, the xlsxwriter renderer and the ``generate`` job."""
