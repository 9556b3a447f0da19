"""Smart dispatch (智能派单): from a citizen's words to category, department, place and time limit."""
