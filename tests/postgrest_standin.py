"""A small local stand-in for PostgREST's `POST /rest/v1/rpc/<fn>`, for the supabase-py path.

It does what PostgREST does for an RPC, on the real test database:
* verifies the JWT in `Authorization: Bearer` (HS256, the project's JWT secret) and takes its
  `role` claim;
* looks the function up in the catalog (its schema cache) by name and the set of argument names
  given, answering PGRST202 when there is none;
* runs `select public.fn(arg := pgrst_args.arg, …) from json_to_record($1) as pgrst_args(arg type, …)`
  inside a transaction with `role` and `request.jwt.claims` set locally;
* returns the function's JSON value as the body, or a PostgREST-style error object.
"""

from __future__ import annotations

import json
import threading

import jwt
import psycopg
from psycopg import sql
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


def service_role_key() -> str:
    return jwt.encode({"iss": "supabase-demo", "role": "service_role", "exp": 4102444800}, JWT_SECRET, "HS256")


def anon_key() -> str:
    return jwt.encode({"iss": "supabase-demo", "role": "anon", "exp": 4102444800}, JWT_SECRET, "HS256")


def _error(status: int, code: str, message: str) -> Response:
    body = {"code": code, "details": None, "hint": None, "message": message}
    return Response(json.dumps(body), status=status, content_type="application/json")


class PostgrestStandIn:
    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.calls: list[tuple[str, dict]] = []
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()

    def _wsgi(self, environ, start_response):
        return self._handle(Request(environ))(environ, start_response)

    def _handle(self, request: Request) -> Response:
        prefix = "/rest/v1/rpc/"
        if request.method != "POST" or not request.path.startswith(prefix):
            return _error(404, "PGRST125", "Invalid path specified in request URL")
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError:
            return _error(401, "PGRST301", "JWSError JWSInvalidSignature")
        try:
            args = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _error(400, "PGRST102", "Empty or invalid json")
        name = request.path[len(prefix):]
        self.calls.append((name, args))
        with psycopg.connect(self.conninfo, autocommit=False) as conn:
            signature = self._find_function(conn, name, set(args))
            if signature is None:
                return _error(404, "PGRST202", f"Could not find the function public.{name} in the schema cache")
            query = sql.SQL("select public.{}({}) from json_to_record(%s::json) as pgrst_args({})").format(
                sql.Identifier(name),
                sql.SQL(", ").join(sql.SQL("{0} := pgrst_args.{0}").format(sql.Identifier(a)) for a, _ in signature),
                sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(a), sql.SQL(t)) for a, t in signature),
            ) if signature else sql.SQL("select public.{}() where %s::json is not null").format(sql.Identifier(name))
            try:
                conn.execute("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                             [claims.get("role", "anon"), json.dumps(claims)])
                value = conn.execute(query, [json.dumps(args)]).fetchone()[0]
                conn.commit()
            except psycopg.errors.InsufficientPrivilege as exc:
                return _error(401, "42501", exc.diag.message_primary or "permission denied")
            except psycopg.Error as exc:
                return _error(400, exc.sqlstate or "XX000", exc.diag.message_primary or "error")
        return Response(json.dumps(value), content_type="application/json")

    @staticmethod
    def _find_function(conn, name: str, given: set[str]):
        """The overload whose arguments cover `given` and whose missing ones all have defaults."""
        rows = conn.execute(
            """
            select p.proargnames, array(select format_type(t, null) from unnest(p.proargtypes) t),
                   p.pronargs, p.pronargdefaults
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public' and p.proname = %s
            """,
            [name],
        ).fetchall()
        for names, types, nargs, ndefaults in rows:
            names = list(names or [])[:nargs]
            required = set(names[: nargs - ndefaults])
            if required <= given <= set(names):
                return [(a, t) for a, t in zip(names, types) if a in given]
        return None
