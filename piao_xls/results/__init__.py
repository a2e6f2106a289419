"""Stage 4, the results: consolidation of many returned files, the summary workbook, JSON and CSV."""
