"""The three rates (三率) and hotspots (主动治理): what supervisors watch."""
