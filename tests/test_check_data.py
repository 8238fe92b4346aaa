"""The notebook-01 exercise checks: right answers pass, wrong ones get a hint.

What every check does (unfinished answers, the random state) is in test_check_common.py.
"""

import pytest
import torch

from helpers import check
from helpers.check import ExerciseError


def line(weight=0.7, bias=0.3, n=50, step=0.02):
    X = torch.arange(n, dtype=torch.float32).unsqueeze(1) * step
    return X, weight * X + bias


def ordered(X, y, fraction):
    n = int(fraction * len(X))
    return X[:n], y[:n], X[n:], y[n:]


def shuffled(X, y, seed, fraction=0.8, same_order=True):
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(X), generator=g)
    y_order = order if same_order else torch.randperm(len(X), generator=g)
    n = int(fraction * len(X))
    X, y = X[order], y[y_order]
    return X[:n], y[:n], X[n:], y[n:]


def noisy(noise_std, seed, *, scale=1.0, uniform=False):
    X, y = line()
    g = torch.Generator().manual_seed(seed)
    draw = torch.rand if uniform else torch.randn
    return X, y + scale * noise_std * draw(X.shape, generator=g)


# 01.1: y = 0.3x + 0.9, 100 points


def test_01_1_accepts_the_line(capsys):
    check.exercise_01_1(lambda: line(0.3, 0.9, 100, 0.01))
    assert capsys.readouterr().out.startswith("Exercise 01.1 passed")


def test_01_1_also_accepts_torch_arange(capsys):
    def answer():
        X = torch.arange(0, 1, 0.01).unsqueeze(dim=1)
        return X, 0.3 * X + 0.9

    check.exercise_01_1(answer)
    assert "passed" in capsys.readouterr().out


def test_01_1_rejects_a_flat_x():
    def answer():
        X = torch.arange(0, 1, 0.01)
        return X, 0.3 * X + 0.9

    with pytest.raises(ExerciseError, match=r"not a column[\s\S]*unsqueeze"):
        check.exercise_01_1(answer)


def test_01_1_rejects_the_old_line():
    with pytest.raises(ExerciseError, match="weight to 0.3 and the bias to 0.9"):
        check.exercise_01_1(lambda: line(0.7, 0.3, 100, 0.01))


def test_01_1_rejects_linspace_points():
    def answer():
        X = torch.linspace(0, 1, 100).unsqueeze(1)
        return X, 0.3 * X + 0.9

    with pytest.raises(ExerciseError, match="step 0.01"):
        check.exercise_01_1(answer)


def test_01_1_rejects_a_wrong_count_and_integer_data():
    with pytest.raises(ExerciseError, match="should have 100"):
        check.exercise_01_1(lambda: line(0.3, 0.9, 50, 0.02))
    with pytest.raises(ExerciseError, match="float"):
        check.exercise_01_1(lambda: (torch.arange(100).unsqueeze(1),) * 2)


def test_01_1_rejects_a_single_tensor():
    with pytest.raises(ExerciseError, match="return X, y"):
        check.exercise_01_1(lambda: line(0.3, 0.9, 100, 0.01)[1])


# 01.2: ordered 70/30 split


def test_01_2_accepts_an_ordered_70_30_split(capsys):
    check.exercise_01_2(lambda X, y: ordered(X, y, 0.7))
    assert capsys.readouterr().out.startswith("Exercise 01.2 passed")


def test_01_2_rejects_80_20():
    with pytest.raises(ExerciseError, match=r"training share is 80%[\s\S]*int\(0.7 \* len\(X\)\)"):
        check.exercise_01_2(lambda X, y: ordered(X, y, 0.8))


def test_01_2_rejects_a_hard_coded_35():
    def answer(X, y):
        return X[:35], y[:35], X[35:], y[35:]

    with pytest.raises(ExerciseError, match="with 100 rows"):
        check.exercise_01_2(answer)


def test_01_2_rejects_shuffling_and_wrong_order_of_results():
    with pytest.raises(ExerciseError, match="no shuffling"):
        check.exercise_01_2(lambda X, y: shuffled(X, y, 0, fraction=0.7))

    def swapped(X, y):
        X_train, y_train, X_test, y_test = ordered(X, y, 0.7)
        return X_train, X_test, y_train, y_test

    with pytest.raises(ExerciseError, match=r"wrong order[\s\S]*X_train, y_train, X_test, y_test"):
        check.exercise_01_2(swapped)


def test_01_2_rejects_a_list():
    with pytest.raises(ExerciseError, match="return X_train, y_train, X_test, y_test"):
        check.exercise_01_2(lambda X, y: list(ordered(X, y, 0.7)))


# 01.3: shuffled 80/20 split that keeps pairs


def test_01_3_accepts_a_seeded_shuffle(capsys):
    check.exercise_01_3(shuffled)
    assert capsys.readouterr().out.startswith("Exercise 01.3 passed")


def test_01_3_rejects_the_helper_the_text_forbids():
    import helpers

    with pytest.raises(ExerciseError, match=r"calls helpers\.split_data[\s\S]*torch\.randperm"):
        check.exercise_01_3(lambda X, y, seed: helpers.split_data(X, y, shuffle=True, seed=seed))


def test_01_3_rejects_shuffling_x_and_y_apart():
    with pytest.raises(ExerciseError, match="ONE permutation"):
        check.exercise_01_3(lambda X, y, seed: shuffled(X, y, seed, same_order=False))


def test_01_3_rejects_no_shuffle_and_ignored_seeds():
    with pytest.raises(ExerciseError, match="nothing was shuffled"):
        check.exercise_01_3(lambda X, y, seed: ordered(X, y, 0.8))
    with pytest.raises(ExerciseError, match="use the seed argument"):
        check.exercise_01_3(lambda X, y, seed: shuffled(X, y, 123))


def test_01_3_rejects_an_unseeded_shuffle():
    def answer(X, y, seed):
        order = torch.randperm(len(X))
        return ordered(X[order], y[order], 0.8)

    with pytest.raises(ExerciseError, match="same seed gave different"):
        check.exercise_01_3(answer)


def test_01_3_rejects_a_wrong_fraction():
    with pytest.raises(ExerciseError, match=r"80/20 split of 50 rows gives \(40, 1\)"):
        check.exercise_01_3(lambda X, y, seed: shuffled(X, y, seed, fraction=0.7))


# 01.4: noisy data


def test_01_4_accepts_seeded_normal_noise(capsys):
    check.exercise_01_4(noisy)
    out = capsys.readouterr().out
    assert out.startswith("Exercise 01.4 passed") and "truth 0.7, 0.3" in out


def test_01_4_accepts_the_helper_and_the_global_generator():
    import helpers

    check.exercise_01_4(lambda s, seed: helpers.make_linear_data(noise_std=s, seed=seed))

    def global_rng(noise_std, seed):
        torch.manual_seed(seed)
        X = torch.arange(0, 1, 0.02).unsqueeze(1)
        return X, 0.7 * X + 0.3 + noise_std * torch.randn(X.shape)

    check.exercise_01_4(global_rng)


def test_01_4_rejects_missing_too_much_and_uniform_noise():
    with pytest.raises(ExerciseError, match="add noise to y"):
        check.exercise_01_4(lambda s, seed: line())
    with pytest.raises(ExerciseError, match="expected about 0.1"):
        check.exercise_01_4(lambda s, seed: noisy(s, seed, scale=5.0))
    with pytest.raises(ExerciseError, match="torch.randn"):
        check.exercise_01_4(lambda s, seed: noisy(s, seed, uniform=True))


def test_01_4_names_one_noise_value_shared_by_every_point():
    def answer(noise_std, seed):
        X, y = line()
        return X, y + noise_std * torch.randn(1, generator=torch.Generator().manual_seed(seed))

    with pytest.raises(ExerciseError, match=r"same amount[\s\S]*one noise value per point"):
        check.exercise_01_4(answer)


def test_01_4_rejects_noise_when_none_was_asked():
    with pytest.raises(ExerciseError, match="noise_std=0"):
        check.exercise_01_4(lambda s, seed: noisy(0.1, seed))


def test_01_4_rejects_noise_on_x_and_an_ignored_seed():
    def on_x(noise_std, seed):
        X, y = noisy(noise_std, seed)
        return X + (y - line()[1]), line()[1]

    with pytest.raises(ExerciseError, match="add the noise to y only"):
        check.exercise_01_4(on_x)
    with pytest.raises(ExerciseError, match="seeds 0 and 1 gave the same"):
        check.exercise_01_4(lambda s, seed: noisy(s, 7))


# Wrong answers that passed before: inputs changed in place, splits that only look shuffled,
# noise of the wrong kind. Right answers written differently (NumPy, float64) still pass.


def test_01_1_accepts_float64():
    def answer():
        X = torch.arange(0, 1, 0.01, dtype=torch.float64).unsqueeze(1)
        return X, 0.3 * X + 0.9

    check.exercise_01_1(answer)


def test_01_2_rejects_writing_into_the_given_data():
    def answer(X, y):
        X.mul_(1.0 + 1e-3)  # same shapes, values nudged in place
        return ordered(X, y, 0.7)

    with pytest.raises(ExerciseError, match=r"changed the X it was given[\s\S]*in-place"):
        check.exercise_01_2(answer)


def split_at(X, y, order, fraction=0.8):
    n = int(fraction * len(X))
    return X[order][:n], y[order][:n], X[order][n:], y[order][n:]


def test_01_3_rejects_shuffling_only_the_training_rows():
    def answer(X, y, seed):
        n = int(0.8 * len(X))
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        return X[:n][order], y[:n][order], X[n:], y[n:]

    with pytest.raises(ExerciseError, match=r"neighbours in the original order[\s\S]*ALL rows"):
        check.exercise_01_3(answer)


def test_01_3_rejects_shuffling_only_the_test_rows():
    def answer(X, y, seed):
        n = int(0.8 * len(X))
        order = torch.randperm(len(X) - n, generator=torch.Generator().manual_seed(seed))
        return X[:n], y[:n], X[n:][order], y[n:][order]

    with pytest.raises(ExerciseError, match="neighbours in the original order"):
        check.exercise_01_3(answer)


@pytest.mark.parametrize("shift", [3, 7, 45])
def test_01_3_rejects_a_rotation_of_the_rows(shift):
    def answer(X, y, seed):
        order = (torch.arange(len(X)) + shift + seed) % len(X)
        return split_at(X, y, order)

    with pytest.raises(ExerciseError, match=r"neighbours in the original order[\s\S]*roll"):
        check.exercise_01_3(answer)


def test_01_3_names_a_rotation_that_wraps_around():
    def answer(X, y, seed):  # the test rows are the last 5 and the first 5 rows
        return split_at(X, y, (torch.arange(len(X)) + len(X) // 10 + seed) % len(X))

    with pytest.raises(ExerciseError, match="running off the end of the data"):
        check.exercise_01_3(answer)


def test_01_3_rejects_a_reversal():
    with pytest.raises(ExerciseError, match=r"x from 0\.0000 to 0\.1800"):
        check.exercise_01_3(lambda X, y, seed: split_at(X, y, torch.arange(len(X) - 1, -1, -1)))


def test_01_3_rejects_shuffling_the_given_tensors_in_place():
    def answer(X, y, seed):
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
        X[:], y[:] = X[order].clone(), y[order].clone()
        return ordered(X, y, 0.8)

    with pytest.raises(ExerciseError, match="changed the X it was given"):
        check.exercise_01_3(answer)


def test_01_3_rejects_a_hard_coded_40():
    def answer(X, y, seed):
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
        return X[order][:40], y[order][:40], X[order][40:], y[order][40:]

    with pytest.raises(ExerciseError, match=r"80/20 split of 30 rows gives \(24, 1\)"):
        check.exercise_01_3(answer)


def test_01_3_accepts_a_numpy_permutation_and_float64_results(capsys):
    import numpy as np

    def answer(X, y, seed):
        order = np.random.default_rng(seed).permutation(len(X))
        return tuple(t.double() for t in split_at(X, y, order))

    check.exercise_01_3(answer)
    assert capsys.readouterr().out.startswith("Exercise 01.3 passed")


def test_01_4_rejects_uniform_noise_of_the_same_width():
    def answer(noise_std, seed):
        X, y = line()
        g = torch.Generator().manual_seed(seed)
        return X, y + noise_std * (2 * torch.rand(X.shape, generator=g) - 1)  # spread 0.58 s

    with pytest.raises(ExerciseError, match=r"noise_std=0.3, over 20 seeds[\s\S]*not about 0.3"):
        check.exercise_01_4(answer)


def test_01_4_rejects_noise_that_does_not_scale_with_noise_std():
    # 10 s**2 is 0 at s = 0 and 0.1 at s = 0.1, but 0.9 at s = 0.3
    with pytest.raises(ExerciseError, match="not about 0.3"):
        check.exercise_01_4(lambda s, seed: noisy(10 * s * s, seed))


def test_01_4_rejects_noise_with_a_mean():
    with pytest.raises(ExerciseError, match=r"averages 0.06[\s\S]*mean zero"):
        check.exercise_01_4(lambda s, seed: (lambda X, y: (X, y + 0.2 * s))(*noisy(s, seed)))


def test_01_4_accepts_numpy_noise_in_float64(capsys):
    import numpy as np

    def answer(noise_std, seed):
        X = torch.arange(0, 1, 0.02, dtype=torch.float64).unsqueeze(1)
        noise = np.random.default_rng(seed).normal(0.0, noise_std, size=(50, 1))
        return X, 0.7 * X + 0.3 + torch.from_numpy(noise)

    check.exercise_01_4(answer)
    assert capsys.readouterr().out.startswith("Exercise 01.4 passed")
