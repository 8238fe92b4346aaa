import helpers


def test_imports():
    assert helpers.make_linear_data()[0].shape == (50, 1)
