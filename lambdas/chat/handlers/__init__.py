"""Lambda entry points: parse the API Gateway event, call logic, shape the reply (nothing else)."""
