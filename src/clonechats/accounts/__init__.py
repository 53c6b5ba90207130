"""Accounts: users, passwords, sessions, sign-in, verification, reset, audit, age rules."""
