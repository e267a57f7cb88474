"""Stage II reward and GRPO objective on hand-worked cases."""

import pytest
import torch

from spatialmem.latent.rewards import RewardConfig, group_advantages, grpo_loss, invocation_reward

CFG = RewardConfig(wrong_type_penalty=0.5, needless_penalty=0.3)


@pytest.mark.parametrize("correct, invoked, needs, expected", [
    (True, "long", "long", 1.0),     # right memory, right answer
    (True, "short", "long", 0.5),    # right answer, wrong memory type
    (False, "short", "long", -0.5),  # wrong type and wrong answer
    (True, "long", "none", 0.7),     # needless invocation
    (False, "short", "none", -0.3),
    (True, None, "none", 1.0),       # no memory, none needed
    (False, None, "long", 0.0),      # needed memory but did not call it: only the answer counts
    (True, None, "short", 1.0),
])
def test_reward_hand_worked(correct, invoked, needs, expected):
    assert invocation_reward(correct, invoked, needs, CFG) == pytest.approx(expected)


def test_group_advantages():
    adv = group_advantages(torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.5, 0.5, 0.5, 0.5]]))
    assert torch.allclose(adv[0], torch.tensor([1.0, -1.0, 1.0, -1.0]), atol=1e-4)
    assert torch.equal(adv[1], torch.zeros(4))


def test_grpo_gradient_is_advantage_weighted_log_prob():
    theta = torch.tensor([0.2, -0.1, 0.4], requires_grad=True)
    logp = torch.log_softmax(theta, -1)
    actions = torch.tensor([[0, 2, 2, 1]])
    adv = torch.tensor([[1.0, -0.5, -0.5, 0.0]])
    grpo_loss(logp.gather(0, actions[0])[None], adv).backward()
    # hand-worked: d/dtheta of -mean(A * log pi(a)) with log pi = theta - logsumexp(theta)
    p = torch.softmax(theta.detach(), -1)
    onehot = torch.nn.functional.one_hot(actions[0], 3).float()
    expected = -((adv[0][:, None] * (onehot - p)).mean(0))
    assert torch.allclose(theta.grad, expected, atol=1e-6)
