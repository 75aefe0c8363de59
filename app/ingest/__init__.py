"""Invoice import: CSV, XLSX and UBL files in, validated invoice rows or row errors out."""
