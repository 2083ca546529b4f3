//! The engine's view of the host's storage: the `storage` WIT interface as a plain Rust trait, so that all
//! engine logic runs natively in unit tests (against [`memory::MemoryStore`]) and in the component (against
//! the imported functions) alike.

pub mod memory;

pub use crate::filter::CompareOp;

/// A typed filter literal, as in the WIT `literal`.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Boolean(bool),
    Integer(i64),
    Decimal(f64),
    Text(String),
    /// RFC 3339, UTC.
    DateTime(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: String,
    pub op: CompareOp,
    pub value: Literal,
    pub case_exact: bool,
}

/// One node of a flat filter; children are indices into [`FlatFilter::nodes`] and come before their parent.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterNode {
    AllOf(Vec<u32>),
    AnyOf(Vec<u32>),
    Negate(u32),
    Present(String),
    Compare(Comparison),
    ElementMatch(String, u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlatFilter {
    pub nodes: Vec<FilterNode>,
    pub root: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub path: String,
    pub descending: bool,
    pub case_exact: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub resource_type: String,
    pub filter: Option<FlatFilter>,
    pub sort: Option<SortKey>,
    /// 1-based.
    pub start_index: u32,
    pub count: u32,
    pub without_members: bool,
    /// Cursor paging: see the WIT `query-types.keyset`.
    pub keyset: Option<Keyset>,
}

impl Query {
    /// The resources of `resource_type` whose `path` equals, case-exactly, any of `values` (not empty): at most
    /// `count`, in storage's order, from the first.
    pub fn any_of<S: AsRef<str>>(
        resource_type: &str,
        path: &str,
        values: &[S],
        count: u32,
        without_members: bool,
    ) -> Query {
        let mut nodes: Vec<FilterNode> = values
            .iter()
            .map(|v| {
                FilterNode::Compare(Comparison {
                    path: path.into(),
                    op: CompareOp::Eq,
                    value: Literal::Text(v.as_ref().to_string()),
                    case_exact: true,
                })
            })
            .collect();
        if nodes.len() > 1 {
            nodes.push(FilterNode::AnyOf((0..nodes.len() as u32).collect()));
        }
        let root = nodes.len() as u32 - 1;
        Query {
            resource_type: resource_type.to_string(),
            filter: Some(FlatFilter { nodes, root }),
            sort: None,
            start_index: 1,
            count,
            without_members,
            keyset: None,
        }
    }
}

/// Where a cursor walk resumes: the last shown resource's sort value (`Null` without one) and id.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub value: Literal,
    pub id: String,
}

/// One page of a cursor walk, as in the WIT `query-types.keyset`.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyset {
    pub after: Option<Position>,
    pub count: u32,
}

/// The closed set of storage failures, as in the WIT `storage-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    NotFound,
    /// The attribute whose uniqueness key is taken.
    Conflict(String),
    PreconditionFailed,
    Unsupported,
    Unavailable(String),
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueKey {
    pub attribute: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub value: String,
    pub kind: Option<String>,
    pub display: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub version: String,
    pub data: String,
    pub members: Option<Vec<Member>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Everything,
    FilterOnly,
    Nothing,
    /// Filter and `Query::keyset` applied; `Page::total` holds the number of matches.
    Keyset,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Stored>,
    pub total: Option<u64>,
    pub applied: Applied,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    pub resource_type: String,
    pub id: String,
    pub data: Option<String>,
    pub unique: Vec<UniqueKey>,
    pub clear_members: bool,
    pub remove_members: Vec<String>,
    pub add_members: Vec<Member>,
    pub if_version: Option<String>,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One group a resource is in, directly (depth 1) or through nested groups, as in the WIT `ancestry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestry {
    pub member: String,
    pub group: String,
    pub depth: u32,
}

/// What the engine needs from a host. Mirrors the WIT `storage` interface one to one.
pub trait Store {
    fn get(&mut self, resource_type: &str, id: &str, with_members: bool) -> StoreResult<Option<Stored>>;
    fn create(
        &mut self,
        resource_type: &str,
        data: &str,
        unique: &[UniqueKey],
        members: &[Member],
    ) -> StoreResult<Stored>;
    fn update(&mut self, change: &Update) -> StoreResult<Stored>;
    fn delete(&mut self, resource_type: &str, id: &str, if_version: Option<&str>) -> StoreResult<()>;
    fn search(&mut self, query: &Query) -> StoreResult<Page>;
    fn members(&mut self, resource_type: &str, id: &str, start_index: u32, count: u32) -> StoreResult<Vec<Member>>;
    fn resolve_principal(&mut self, principal: &str) -> StoreResult<Option<(String, String)>>;
    /// Optional: `Unsupported` makes the engine walk up with `search` (see [`crate::nesting`]).
    fn ancestors(&mut self, _resource_type: &str, _ids: &[String], _max_depth: u32) -> StoreResult<Vec<Ancestry>> {
        Err(StoreError::Unsupported)
    }
}

impl From<StoreError> for crate::error::ScimError {
    fn from(e: StoreError) -> Self {
        use crate::error as err;
        match e {
            StoreError::NotFound => err::not_found("resource not found"),
            StoreError::Conflict(attr) => err::uniqueness(format!("{attr}: the value is already taken")),
            StoreError::PreconditionFailed => {
                err::precondition_failed("the resource has changed: its version no longer matches If-Match")
            }
            StoreError::Unsupported => err::not_implemented("this operation is not offered by the host"),
            // Host messages may hold internals: clients get a generic detail.
            StoreError::Unavailable(_) => err::unavailable("storage is temporarily unavailable; retry later"),
            StoreError::Other(_) => err::internal("storage failed"),
        }
    }
}
