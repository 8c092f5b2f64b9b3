"""Robustness: corruptions at five severities, adversarial attacks, and their evaluation."""

from .attacks import fgsm, pgd, random_search_attack
from .corruptions import CORRUPTIONS, Corruption, corrupt
from .evaluate import evaluate_under_corruptions

__all__ = ["CORRUPTIONS", "Corruption", "corrupt", "evaluate_under_corruptions", "fgsm", "pgd",
           "random_search_attack"]
