"""The presets' networks built for a data set of the user's own classes (issue 26), as the tab builds them."""
import pytest
import torch

from cifar_tab.model import Network


@pytest.mark.parametrize("preset", ["tiny", "seed", "quick", "fast"])
def test_a_network_has_one_output_per_class_of_its_data_set(preset):
    torch.manual_seed(0)
    for classes in (2, 3, 100):
        net = Network(preset, "rgb", classes).eval()
        probs = net(torch.randn(2, 3, 32, 32))
        assert probs.shape == (2, classes)
        assert torch.allclose(probs.sum(1), torch.ones(2), atol=1e-5)
    assert Network(preset, "rgb").classes == 10
