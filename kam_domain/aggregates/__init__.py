"""The four aggregates: Team, ClientAccount, Project and Target."""
