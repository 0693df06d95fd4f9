"""Secrets sealed at rest (docs/secrets.md), on real nodes: the guest reads
its secrets while the registry's bytes (SQLite file, PostgreSQL dump) hold
none of them; a node refuses a key file that cannot open them; an upgraded
registry's clear values are sealed; rotation reseals while nodes serve, on
one node and on two sharing PostgreSQL."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

from cluster import metric, wait_for


def fresh_value() -> str:
    return "sv-" + secrets.token_hex(12)


def registry_bytes(data_dir: Path) -> bytes:
    """What a copy of the node's registry would hand over: the file and its WAL."""
    return b"".join(p.read_bytes() for p in (data_dir / "registry.db", data_dir / "registry.db-wal") if p.exists())


def key_ids(key_file: Path) -> list[str]:
    return [line.split()[0] for line in key_file.read_text().splitlines() if line and not line.startswith("#")]


def fn0(build_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(build_dir / "fn0"), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def fn0_json(build_dir: Path, *args: str) -> dict:
    r = fn0(build_dir, *args, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def serve_fails(build_dir: Path, data_dir: Path, *args: str) -> str:
    r = fn0(build_dir, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *args)
    assert r.returncode == 1, r.stderr
    assert "terminate called" not in r.stderr
    return r.stderr


def deploy_with_secrets(node, guests_dir: Path, values: dict[str, str]) -> None:
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    for k, v in values.items():
        r = node.api("PUT", f"/functions/hostile/secrets/{k}", {"value": v})
        assert r.status == 200, r.body


def reads(node, values: dict[str, str]) -> bool:
    return all(node.get(f"/hostile/env?name={k}").body == v.encode() for k, v in values.items())


def test_the_guest_reads_its_secrets_and_the_registry_file_holds_none(node_factory, guests_dir):
    node = node_factory()
    values = {"API_KEY": fresh_value(), "DB_PASSWORD": fresh_value()}
    deploy_with_secrets(node, guests_dir, values)
    visible = "env-" + secrets.token_hex(8)
    assert node.api("PUT", "/functions/hostile/env/MODE", {"value": visible}).status == 200
    assert reads(node, values)
    raw = registry_bytes(node.data_dir)
    assert visible.encode() in raw, "the check would not see a value stored in clear"
    for v in values.values():
        assert v.encode() not in raw
    key_file = node.data_dir / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "generated a secrets key" in node.stderr()
    node.stop()
    raw = registry_bytes(node.data_dir)
    assert visible.encode() in raw
    for v in values.values():
        assert v.encode() not in raw
        assert v not in key_file.read_text()
        assert v not in node.stderr() and v.encode() not in bytes(node._out)


def test_a_node_refuses_a_key_file_that_cannot_open_its_secrets(node_factory, guests_dir, build_dir, tmp_path):
    first = node_factory()
    values = {"API_KEY": fresh_value(), "DB_PASSWORD": fresh_value()}
    deploy_with_secrets(first, guests_dir, values)
    first.stop()
    data, key_file = first.data_dir, first.data_dir / "secrets.key"
    [key_id] = key_ids(key_file)

    other = tmp_path / "other.key"
    assert fn0(build_dir, "secrets-key", "add", "--secrets-key-file", str(other)).returncode == 0
    err = serve_fails(build_dir, data, "--secrets-key-file", str(other))
    assert f"does not hold key {key_id} (it seals 2 secrets)" in err, err

    missing = tmp_path / "missing.key"
    err = serve_fails(build_dir, data, "--secrets-key-file", str(missing))
    assert f"sealed with key {key_id}, and there is no secrets key file at {missing}" in err, err
    assert not missing.exists(), "a key was made up for a registry that has one"

    key_file.chmod(0o644)
    err = serve_fails(build_dir, data)
    assert f"chmod 600 {key_file}" in err, err
    key_file.chmod(0o600)

    damaged = tmp_path / "damaged.key"
    text = key_file.read_text()
    damaged.write_text(text[:-10] + "\n")
    damaged.chmod(0o600)
    err = serve_fails(build_dir, data, "--secrets-key-file", str(damaged))
    assert f"{damaged} is malformed: line" in err, err

    # The right file, kept outside the data directory and named by the
    # environment, opens everything.
    moved = tmp_path / "kept-apart.key"
    shutil.move(key_file, moved)
    again = node_factory(data_dir=data, env={"FN0_SECRETS_KEY_FILE": str(moved)})
    assert reads(again, values)
    assert not key_file.exists()


def test_secrets_an_older_fn0_stored_in_clear_are_sealed_on_upgrade(node_factory, guests_dir, build_dir):
    node = node_factory()
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    node.stop()
    data = node.data_dir
    values = {"API_KEY": fresh_value(), "DB_PASSWORD": fresh_value()}
    # What an fn0 from before sealed secrets left: schema 8, values in clear, no key file
    # (so also without the later migrations: versions' created_by, 10; OIDC logins, 11).
    db = sqlite3.connect(data / "registry.db")
    db.executescript("ALTER TABLE secrets DROP COLUMN key_id; ALTER TABLE registry_state DROP COLUMN secrets_key_id;"
                     "ALTER TABLE versions DROP COLUMN created_by; DROP TABLE oidc_logins;"
                     "ALTER TABLE sessions DROP COLUMN person; PRAGMA user_version = 8;")
    db.executemany("INSERT INTO secrets(function, name, value) VALUES ('hostile', ?, ?)", values.items())
    db.commit()
    db.close()
    (data / "secrets.key").unlink()
    assert all(v.encode() in registry_bytes(data) for v in values.values()), "the setup did not store them in clear"

    upgraded = node_factory(data_dir=data)
    assert "sealed 2 secrets stored in clear by an older fn0" in upgraded.stderr(), upgraded.stderr()
    assert reads(upgraded, values)
    raw = registry_bytes(data)
    for v in values.values():
        assert v.encode() not in raw, "a value stayed in the registry's bytes"
    status = fn0_json(build_dir, "secrets-key", "status", "--data-dir", str(data))
    assert status["clear"] == 0 and status["secrets"] == {key_ids(data / "secrets.key")[0]: 2}, status


def test_rotation_on_one_node_reseals_while_it_serves(node_factory, guests_dir, build_dir):
    node = node_factory()
    values = {"API_KEY": fresh_value(), "DB_PASSWORD": fresh_value()}
    deploy_with_secrets(node, guests_dir, values)
    data, key_file = node.data_dir, node.data_dir / "secrets.key"
    [old] = key_ids(key_file)

    def rows():
        db = sqlite3.connect(data / "registry.db")
        try:
            return db.execute("SELECT name, value, key_id FROM secrets ORDER BY name").fetchall()
        finally:
            db.close()

    before = rows()
    out = fn0_json(build_dir, "secrets-key", "rotate", "--data-dir", str(data))
    new = out["key"]
    assert out["previous"] == old and out["sealed"] == 2 and out["generated"] is True and new != old, out
    assert key_ids(key_file) == [new, old]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    after = rows()
    assert [r[2] for r in after] == [new, new]
    assert all(a[1] != b[1] for a, b in zip(after, before))
    assert reads(node, values)
    # The running node seals with the new key (it reads its file again) and
    # opens every value with it.
    values["LATER"] = fresh_value()
    assert node.api("PUT", "/functions/hostile/secrets/LATER", {"value": values["LATER"]}).status == 200
    assert reads(node, values)
    assert metric(node, "fn0_registry_secrets_unreadable") == 0

    pruned = fn0_json(build_dir, "secrets-key", "prune", "--data-dir", str(data))
    assert pruned["dropped"] == [old] and key_ids(key_file) == [new]
    status = fn0_json(build_dir, "secrets-key", "status", "--data-dir", str(data))
    assert status["registry_key"] == new and status["secrets"] == {new: 3} and status["keys"] == [new], status
    node.stop()
    restarted = node_factory(data_dir=data)
    assert reads(restarted, values)
    raw = registry_bytes(data)
    for v in values.values():
        assert v.encode() not in raw


def test_cluster_secrets_are_sealed_in_postgres_and_rotate_while_both_nodes_serve(cluster, guests_dir, build_dir):
    a, b = cluster.node("a"), cluster.node("b")
    values = {"API_KEY": fresh_value(), "DB_PASSWORD": fresh_value()}
    deploy_with_secrets(a, guests_dir, values)
    visible = "env-" + secrets.token_hex(8)
    assert a.api("PUT", "/functions/hostile/env/MODE", {"value": visible}).status == 200
    wait_for(lambda: reads(b, values), timeout=60, every=0.1)
    assert reads(a, values)
    dump = cluster.pg.dump()
    assert visible in dump, "the check would not see a value stored in clear"
    table = cluster.pg.psql("SELECT function, name, value, key_id FROM secrets")
    for v in values.values():
        assert v not in dump and v not in table

    url, shared = cluster.pg.url(), str(cluster.secrets_key_file)
    [old] = key_ids(cluster.secrets_key_file)
    added = fn0_json(build_dir, "secrets-key", "add", "--secrets-key-file", shared)["added"]
    assert key_ids(cluster.secrets_key_file) == [added, old]
    # Every node already has the new key (one file here): the rotation uses it.
    out = fn0_json(build_dir, "secrets-key", "rotate", "--registry", url, "--secrets-key-file", shared)
    assert out["key"] == added and out["generated"] is False and out["sealed"] == 2, out
    assert cluster.pg.psql("SELECT DISTINCT key_id FROM secrets").split() == [added]
    values["FROM_B"] = fresh_value()
    assert b.api("PUT", "/functions/hostile/secrets/FROM_B", {"value": values["FROM_B"]}).status == 200
    wait_for(lambda: reads(a, values), timeout=10, every=0.05)
    assert reads(b, values)
    assert metric(a, "fn0_registry_secrets_unreadable") == 0 and metric(b, "fn0_registry_secrets_unreadable") == 0
    assert fn0_json(build_dir, "secrets-key", "prune", "--registry", url, "--secrets-key-file", shared)["dropped"] == [old]
    dump = cluster.pg.dump()
    for v in values.values():
        assert v not in dump


def test_a_cluster_node_without_the_keys_is_refused_and_one_whose_file_lags_keeps_serving(cluster, guests_dir,
                                                                                          build_dir):
    a = cluster.node("a")
    values = {"API_KEY": fresh_value(), "DB_PASSWORD": fresh_value()}
    deploy_with_secrets(a, guests_dir, values)
    [old] = key_ids(cluster.secrets_key_file)

    # No key file: refused, and no key made up that the others could not open.
    c = cluster.node("c", secrets_key=False, start=False)
    try:
        c.start()
        raise AssertionError("a node without the cluster's secrets key started")
    except RuntimeError as e:
        msg = str(e)
    assert f"sealed with key {old}, and there is no secrets key file at {cluster.workdir / 'c' / 'secrets.key'}" in msg
    assert not (cluster.workdir / "c" / "secrets.key").exists()

    # B with its own copy of the file, which the rotation's new key reaches late.
    copy = cluster.workdir / "b.key"
    shutil.copy(cluster.secrets_key_file, copy)
    copy.chmod(0o600)
    b = cluster.node("b", "--secrets-key-file", str(copy), secrets_key=False)
    wait_for(lambda: reads(b, values), timeout=60, every=0.1)
    r = fn0(build_dir, "secrets-key", "rotate", "--registry", cluster.pg.url(), "--secrets-key-file",
            str(cluster.secrets_key_file))
    assert r.returncode == 0 and "copy it to every node now" in r.stdout, r.stdout + r.stderr
    [new, _] = key_ids(cluster.secrets_key_file)
    wait_for(lambda: metric(b, "fn0_registry_secrets_unreadable") == 2, timeout=10, every=0.05)
    assert reads(b, values), "b stopped serving the values it had"
    assert f"is sealed with key {new}, which {copy} does not hold" in b.stderr()
    refused = b.api("PUT", "/functions/hostile/secrets/X", {"value": "y"})
    assert refused.status == 500 and b"does not hold" in refused.body, refused.body
    # Other changes still reach it.
    assert a.api("PUT", "/functions/hostile/env/MODE", {"value": "one"}).status == 200
    wait_for(lambda: b.get("/hostile/env?name=MODE").body == b"one", timeout=10, every=0.05)

    # The file arrives (written whole, as a copy tool would): b opens everything on its next reload.
    tmp = cluster.workdir / "b.key.new"
    shutil.copy(cluster.secrets_key_file, tmp)
    tmp.chmod(0o600)
    tmp.rename(copy)
    assert a.api("PUT", "/functions/hostile/env/MODE", {"value": "two"}).status == 200
    wait_for(lambda: metric(b, "fn0_registry_secrets_unreadable") == 0, timeout=10, every=0.05)
    assert reads(b, values)
    values["FROM_B"] = fresh_value()
    assert b.api("PUT", "/functions/hostile/secrets/FROM_B", {"value": values["FROM_B"]}).status == 200
    wait_for(lambda: reads(a, values), timeout=10, every=0.05)
