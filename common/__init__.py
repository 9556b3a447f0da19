"""Small pieces shared by the services of the main environment (never by the Rasa server)."""
