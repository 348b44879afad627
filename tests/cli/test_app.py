"""`reanimate app` refuses a port that is taken before it touches anything there."""

import socket

from tests.cli.test_stylize import reanimate


def test_a_taken_port_is_refused_and_the_running_studios_files_are_kept(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:  # stands in for a studio already serving there
        port = taken.getsockname()[1]
        running = tmp_path / f"studio-{port}" / "sessions" / "abc"
        running.mkdir(parents=True)
        result = reanimate("app", "--port", port, "--workdir", tmp_path)
    assert result.returncode == 2 and f"port {port} is in use" in result.stderr, result.stderr
    assert running.is_dir()
