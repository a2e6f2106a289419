"""The finance office's folder for one comune and year: settings (TOML) and the ledger (SQLite)."""
