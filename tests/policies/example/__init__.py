"""An example third-party policy package, as docs/policies.md writes it step by step."""
