"""The SQL that defines stedi's tables and quality checks, shipped as package data."""
