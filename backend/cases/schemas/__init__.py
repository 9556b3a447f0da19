"""Request and response schemas of cases, separate from the tables, one module per entity."""
