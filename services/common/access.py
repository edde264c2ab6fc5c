"""Who may call each route: every route declares an `Access`, and a route without one is refused.

A route declares its callers with a dependency, `principal: Annotated[Principal, Depends(OFFICE)]`
or `dependencies=[Depends(ANY_ROLE)]`. `seal_router` runs when an app is built and gives every
route that declares nothing a dependency that refuses everyone with 403, so a route added without
thought is closed, not open.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_parameterless_sub_dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.errors import ApiError
from services.common.identity import ROLES, Principal, Role, token_invalid, token_missing

_bearer = HTTPBearer(auto_error=False, description="A token issued by the office (`luoshi token issue`).")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# What `_bearer` puts in OpenAPI, for a route that reads the header itself.
BEARER_SECURITY: dict[str, Any] = {"security": [{"HTTPBearer": []}]}

ROLE_NAMES_ZH = {"office": "督查室", "supervisor": "督导领导", "unit": "承办单位"}


class Access:
    """A route's declared callers: the roles that may call it, and whether a public read is allowed.

    `public_setting` names a boolean service setting (such as `public_reads`) that, when an
    operator turns it on, lets a caller without any token through; a token that is given is
    still checked.
    """

    def __init__(self, *roles: Role, public_setting: str | None = None) -> None:
        self.roles: tuple[Role, ...] = roles
        self.public_setting = public_setting

    def __repr__(self) -> str:
        public = f", public when {self.public_setting}" if self.public_setting else ""
        return f"Access({', '.join(self.roles)}{public})"

    async def __call__(self, request: Request, credentials: BearerDep) -> Principal | None:
        if credentials is None and "authorization" not in request.headers and self._public(request):
            return None
        token = credentials.credentials if credentials is not None else ""
        return await self.admit(request, token)

    async def admit(self, request: Request, token: str) -> Principal:
        """The caller of `token` if their role may call this route; 401 or 403 otherwise."""
        principal = await resolve(request, token)
        if principal.role not in self.roles:
            allowed = "、".join(ROLE_NAMES_ZH[r] for r in self.roles)
            raise access_denied(
                f"无权执行此操作：仅限{allowed}",
                f"not allowed for the {principal.role} role; allowed: {', '.join(self.roles)}",
            )
        return principal

    def _public(self, request: Request) -> bool:
        if self.public_setting is None:
            return False
        return bool(getattr(request.app.state.runtime.settings, self.public_setting, False))


def access_denied(zh: str, en: str) -> ApiError:
    """403: the caller is known but may not do this (their role, or not their unit's business)."""
    return ApiError(403, "role_forbidden", zh, en)


async def resolve(request: Request, token: str) -> Principal:
    """The principal of a bearer token, resolved once per request and kept on `request.state`."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = token.strip()
    if not token:
        raise token_missing()
    runtime = request.app.state.runtime
    principal = await runtime.run_db(runtime.tokens.lookup, token, runtime.clock.now())
    if principal is None:
        raise token_invalid()
    request.state.principal = principal
    return principal


class HeaderAccess(Access):
    """An `Access` that reads the Authorization header itself, for a route under sustained load.

    A nested `HTTPBearer` dependency cost a third of the report route's FastAPI time (each
    dependency level resolves path, query, header and cookie parameters again); such a route
    declares the bearer scheme for OpenAPI with `BEARER_SECURITY`.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        return await self.admit(request, credentials if scheme.lower() == "bearer" else "")


class Public(Access):
    """Declares a route open to anyone: health checks and the console's entry page."""

    def __repr__(self) -> str:
        return "Public"

    async def __call__(self) -> None:  # type: ignore[override]
        return None


PUBLIC = Public()
OFFICE = Access("office")
OFFICE_OR_SUPERVISOR = Access("office", "supervisor")
ANY_ROLE = Access(*ROLES)
UNIT = Access("unit")

OfficeDep = Annotated[Principal, Depends(OFFICE)]
AnyRoleDep = Annotated[Principal, Depends(ANY_ROLE)]
UnitDep = Annotated[Principal, Depends(UNIT)]


def _accesses(dependant: Dependant) -> Iterator[Access]:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Access):
            yield dep.call
        yield from _accesses(dep)


def route_access(route: APIRoute) -> Access | None:
    """The access a route declares, or None when it declares none."""
    return next(_accesses(route.dependant), None)


class Refused(Access):
    """What `seal_router` gives a route that declares no caller: everyone is refused."""

    async def __call__(self) -> None:  # type: ignore[override]
        raise ApiError(
            403, "route_undeclared", "此接口未声明调用角色，已拒绝", "this route declares no caller role and is refused"
        )


REFUSED = Refused()


def declared(route: APIRoute) -> bool:
    access = route_access(route)
    return access is not None and not isinstance(access, Refused)


def seal_router(router: APIRouter) -> list[str]:
    """Refuse every route of `router` that declares no `Access`; returns them, for the log.

    Runs before the router is included, so the app serves the sealed routes.
    """
    sealed = []
    for route in router.routes:
        if isinstance(route, APIRoute) and route_access(route) is None:
            # FastAPI builds an included route's handler from `dependencies`; `dependant` is what
            # a route served directly uses, and what `route_access` reads.
            route.dependencies.append(Depends(REFUSED))
            route.dependant.dependencies.insert(
                0, get_parameterless_sub_dependant(depends=Depends(REFUSED), path=route.path_format)
            )
            sealed.append(f"{','.join(sorted(route.methods))} {route.path}")
    return sealed


def api_routes(routers: Iterable[APIRouter]) -> Iterator[APIRoute]:
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route
