"""Turning the X of a Pipeline into image sources."""


def test_relative_paths_are_resolved_against_the_callers_folder(tmp_path, monkeypatch):
    import os

    from imgrec_classic.utils.images import as_image_list

    monkeypatch.chdir(tmp_path)
    assert as_image_list(["a.png", str(tmp_path / "b.png")]) == [
        os.path.join(str(tmp_path), "a.png"), str(tmp_path / "b.png")]
