"""Spreadsheet I/O shared by every stage: the guard for untrusted files, safe XML, atomic writes, document properties."""
