"""Stage 3, the returns: reading a returned workbook against its layout, and the feedback to its Responsabile."""
