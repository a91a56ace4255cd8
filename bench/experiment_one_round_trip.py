"""Experiment (not part of `make bench`): an RPC in one round trip vs the gateway's four.

The prototype sets role and JWT claims once per pooled connection (the pool's `configure`), runs in
autocommit, and pipelines the per-call statement_timeout with the call. Run against a loaded bench
database:  LOCAL_DB_PORT=... .venv/bin/python bench/experiment_one_round_trip.py
"""
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool
from api.gateway import PostgresGateway
url = f"postgresql://postgres@127.0.0.1:{os.environ.get('LOCAL_DB_PORT', '54330')}/bench?sslmode=disable"

def configure(conn):
    conn.autocommit = True
    conn.execute("set role service_role")
    conn.execute("""select set_config('request.jwt.claims', '{"role":"service_role"}', false)""")

pool = ConnectionPool(url, min_size=1, max_size=1, configure=configure, open=True)
def one_rt(name, params):
    call = sql.SQL("select {}.{}({})").format(sql.Identifier("public"), sql.Identifier(name),
        sql.SQL(", ").join(sql.SQL("{} => {}").format(sql.Identifier(k), sql.Placeholder()) for k in params))
    values = [None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in params.values()]
    with pool.connection() as conn:
        with conn.pipeline():
            conn.execute("select set_config('statement_timeout', %s, false)", ["8000"])
            cur = conn.execute(call, values)
        return cur.fetchone()[0]

gw = PostgresGateway(url, max_size=1)
params = {"p_assistant_id": "asst_bench_5", "p_phone_number_id": None, "p_claimed_org_id": None}
assert one_rt("resolve_vapi_org", params) == gw.rpc("resolve_vapi_org", params)
res = {"gateway (4 RT)": [], "prototype (1 RT)": []}
for r in range(6):
    for k, f in (("gateway (4 RT)", gw.rpc), ("prototype (1 RT)", one_rt)):
        t = time.perf_counter()
        for _ in range(200): f("resolve_vapi_org", params)
        res[k].append((time.perf_counter() - t) / 200 * 1000)
for k, v in res.items(): print(f"{k}: ms per RPC, 6 interleaved rounds: {[round(x, 2) for x in v]} median {statistics.median(v):.2f}")
