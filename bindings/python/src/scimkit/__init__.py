"""scimkit: a SCIM 2.0 service provider, mapper and provisioning client, from one WebAssembly component."""

from .errors import ConfigError, ScimkitError
from .hooks import Adjust, Hooks, Refuse
from .provider import Provider
from .response import Response
from .mapper import Mapper, MappingError
from .provisioner import Provisioner, Report, Step
from .sql_filter import SqlFilter
from .storage import Change, Member, Page, Query, Resource, Sort, Storage, StorageError, Unique
from .transport import HttpRequest, HttpResponse, HttpTransport, Transport, TransportError

__all__ = [
    "Adjust",
    "Change",
    "ConfigError",
    "HttpRequest",
    "HttpResponse",
    "Hooks",
    "HttpTransport",
    "Mapper",
    "MappingError",
    "Member",
    "Page",
    "Provider",
    "Provisioner",
    "Query",
    "Refuse",
    "Report",
    "Resource",
    "Response",
    "ScimkitError",
    "Sort",
    "SqlFilter",
    "Step",
    "Storage",
    "StorageError",
    "Transport",
    "TransportError",
    "Unique",
]
