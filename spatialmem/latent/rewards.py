"""Stage II (invocation) reward and the GRPO-style objective (pure functions, hand-checkable).

Reward of one rollout: ``correct - wrong_type_penalty * [a memory was invoked whose type is not
the one the question needs] - needless_penalty * [a memory was invoked for a question that needs
none]``. A question that needs a memory but got none is not penalised beyond its (likely wrong)
answer. Advantages are the rewards standardised within the group of rollouts of one question.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RewardConfig:
    """Penalty weights of the Stage II reward."""

    wrong_type_penalty: float = 0.5
    needless_penalty: float = 0.3


def invocation_reward(correct: bool, invoked: str | None, needs: str, config: RewardConfig = RewardConfig()) -> float:
    """Reward of one rollout.

    Args:
        correct: whether the final answer was right.
        invoked: "short", "long" or None (no memory invoked).
        needs: the memory the question needs: "short", "long" or "none".
    """
    r = 1.0 if correct else 0.0
    if invoked is not None and needs == "none":
        r -= config.needless_penalty
    elif invoked is not None and invoked != needs:
        r -= config.wrong_type_penalty
    return r


def group_advantages(rewards: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """(B, G) rewards -> (B, G) advantages ``(r - mean_g) / (std_g + eps)`` (zero for a constant group)."""
    mean = rewards.mean(dim=1, keepdim=True)
    std = rewards.std(dim=1, keepdim=True, unbiased=False)
    return (rewards - mean) / (std + eps)


def grpo_loss(logprobs: torch.Tensor, advantages: torch.Tensor, old_logprobs: torch.Tensor | None = None,
              clip: float = 0.2) -> torch.Tensor:
    """Clipped policy-gradient loss over (B, G) rollouts (GRPO without a KL term).

    With ``old_logprobs`` None the ratio is 1 at the current policy (one update per sample), and the
    gradient equals ``-mean(A * grad log pi)``.
    """
    old = logprobs.detach() if old_logprobs is None else old_logprobs
    ratio = torch.exp(logprobs - old)
    unclipped = ratio * advantages
    clipped = ratio.clamp(1 - clip, 1 + clip) * advantages
    return -torch.minimum(unclipped, clipped).mean()
