import torch

from reanimate.nn.losses import VGG19Features, VGGFaceFeatures, build_backbone, edge_loss, lsgan_loss, perceptual_loss


def fake_vgg19_state(path):
    """A torchvision-format VGG19 state dict with random weights (real weights need the internet)."""
    torch.manual_seed(0)
    shapes = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128)}
    state = {}
    for index, (out_ch, in_ch) in shapes.items():
        state[f"features.{index}.weight"] = torch.randn(out_ch, in_ch, 3, 3) * 0.05
        state[f"features.{index}.bias"] = torch.zeros(out_ch)
    state["classifier.0.weight"] = torch.zeros(1)
    torch.save(state, path)
    return state


def test_vgg19_loads_torchvision_weights_and_normalises_input(tmp_path):
    state = fake_vgg19_state(tmp_path / "vgg19.pth")
    vgg = VGG19Features(str(tmp_path / "vgg19.pth"))
    assert torch.equal(vgg.features[0].weight, state["features.0.weight"])
    x = torch.zeros(1, 3, 8, 8)  # mid-grey in [-1, 1] is 0.5 in [0, 1]
    expected = (0.5 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    first = vgg(x)[0]
    manual = torch.nn.functional.conv2d(expected.view(1, 3, 1, 1).expand(1, 3, 8, 8), vgg.features[0].weight,
                                        vgg.features[0].bias, padding=1)
    assert torch.allclose(first, manual, atol=1e-5)
    assert [f.shape[1] for f in vgg(x)] == [64, 64, 128]


def test_inception_backbone_is_offline_and_frozen():
    backbone = build_backbone("inception")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    features = backbone(x)
    assert [f.shape[1] for f in features] == [32, 32, 64]
    assert not any(p.requires_grad for p in backbone.parameters())
    assert perceptual_loss(backbone, x, x) == 0
    y = x.clone().requires_grad_(True)
    perceptual_loss(backbone, y, x.flip(0)).backward()
    assert y.grad.abs().sum() > 0  # gradients reach the generator's output


def test_the_edge_loss_sees_a_blurred_or_moved_outline_and_not_a_flat_offset():
    line = torch.ones(1, 3, 32, 32)
    line[..., 15:17, :] = -1
    blurred = torch.nn.functional.avg_pool2d(line, 5, 1, 2, count_include_pad=False)
    assert edge_loss(line, line) == 0
    assert edge_loss(line - 0.3, line) < 1e-6  # brightness alone is per-pixel L1's business
    assert edge_loss(blurred, line) > 0.01 and edge_loss(line.roll(3, 2), line) > 0.05


def test_lsgan_targets():
    ones, zeros = torch.ones(4), torch.zeros(4)
    assert lsgan_loss(ones, real=True) == 0 and lsgan_loss(zeros, real=False) == 0
    assert lsgan_loss(zeros, real=True) == 1 and build_backbone("none") is None


def _vgg_face_state(named: bool) -> dict:
    """conv1_1, conv1_2, conv2_1 of VGG-Face with random weights, in MatConvNet or torchvision naming."""
    torch.manual_seed(1)
    convs = [("conv1_1", 0, 64, 3), ("conv1_2", 2, 64, 64), ("conv2_1", 5, 128, 64)]
    state = {}
    for name, index, out_ch, in_ch in convs:
        key = name if named else f"features.{index}"
        state[f"{key}.weight"] = torch.randn(out_ch, in_ch, 3, 3) * 0.05
        state[f"{key}.bias"] = torch.randn(out_ch) * 0.1
    return state


def test_vgg_face_gets_0_255_input_minus_its_mean_in_the_right_colour_order(tmp_path):
    x = torch.rand(1, 3, 8, 8) * 2 - 1
    mean = torch.tensor([129.186279296875, 104.76238250732422, 93.59396362304688]).view(1, 3, 1, 1)
    for named in (True, False):
        state = _vgg_face_state(named)
        torch.save(state, tmp_path / "face.pth")
        vgg = VGGFaceFeatures(str(tmp_path / "face.pth"), taps=(1, 6))
        pixels = (x + 1) * 127.5 - mean  # RGB, 0-255, mean removed
        if not named:
            pixels = pixels.flip(1)  # torchvision-keyed files are Caffe conversions: BGR
        weight = state["conv1_1.weight" if named else "features.0.weight"]
        bias = state["conv1_1.bias" if named else "features.0.bias"]
        manual = torch.relu(torch.nn.functional.conv2d(pixels, weight, bias, padding=1))
        first, second = vgg(x)
        assert torch.allclose(first, manual, atol=1e-4) and second.shape == (1, 128, 4, 4)


def test_wrong_vgg_files_are_explained(tmp_path):
    import pytest

    from reanimate.core.errors import UserError

    torch.save({"conv1_1.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "partial.pth")
    with pytest.raises(UserError, match="lack"):
        VGGFaceFeatures(str(tmp_path / "partial.pth"), taps=(1,))
    state = _vgg_face_state(True)
    state["conv1_1.weight"] = torch.zeros(32, 3, 3, 3)
    torch.save(state, tmp_path / "wrong.pth")
    with pytest.raises(UserError, match="do not fit"):
        VGGFaceFeatures(str(tmp_path / "wrong.pth"), taps=(1, 6))
    with pytest.raises(UserError, match="do not exist"):
        VGGFaceFeatures(str(tmp_path / "missing.pth"))
