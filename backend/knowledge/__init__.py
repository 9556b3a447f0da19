"""The knowledge base (知识库): common questions and their answers, searched for consultations (咨询)."""
