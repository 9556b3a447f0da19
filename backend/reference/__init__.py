"""Reference data the backend builds on: departments, the gazetteer, the category tree."""
