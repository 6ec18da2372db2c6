"""Offline licenses and encryption at rest."""
