"""Test support shared by every test folder: RSA keys and tokens, a JWKS server, moto's Cognito."""
