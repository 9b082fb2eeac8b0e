//! Avro schemas parsed once into a flat table of nodes, so that decoding and encoding follow
//! indexes instead of names. A [`Schema`] is an `Arc`: clone it freely, share it across threads,
//! keep one per schema id.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// Index of a node in a schema's table.
pub(crate) type NodeId = u32;

pub(crate) const NULL: NodeId = 0;
const PRIMITIVES: [(&str, Node); 8] = [
    ("null", Node::Null),
    ("boolean", Node::Boolean),
    ("int", Node::Int),
    ("long", Node::Long),
    ("float", Node::Float),
    ("double", Node::Double),
    ("bytes", Node::Bytes),
    ("string", Node::String),
];

/// Deepest nesting of types accepted in a schema's JSON.
const MAX_SCHEMA_DEPTH: usize = 64;

/// One type of a schema.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record(Record),
    Enum {
        name: Box<str>,
        symbols: Box<[Box<str>]>,
    },
    Array(NodeId),
    Map(NodeId),
    Union(Box<[NodeId]>),
    Fixed {
        name: Box<str>,
        size: usize,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) name: Box<str>,
    pub(crate) fields: Box<[Field]>,
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: Box<str>,
    pub(crate) node: NodeId,
    pub(crate) default: Option<Value>,
}

/// A schema that is not valid Avro (or not supported).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Avro schema: {detail}")]
pub struct SchemaError {
    detail: String,
}

impl SchemaError {
    fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
        }
    }
}

/// A parsed Avro schema (the writer schema of a Pub/Sub event, from `GetSchema`).
///
/// Logical types decode as their underlying type: Salesforce's date-times are plain `long`s of
/// epoch milliseconds, and a `timestamp-millis` is an `i64` too.
#[derive(Clone)]
pub struct Schema {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) nodes: Vec<Node>,
    /// Whether a node can be encoded in zero bytes (null, records of such), which decides how
    /// many array items a block count may claim.
    pub(crate) zero_width: Vec<bool>,
    pub(crate) root: NodeId,
}

impl Inner {
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// How a node reads in an error message: `string`, `record Foo`, `union [null, string]`.
    pub(crate) fn describe(&self, id: NodeId) -> String {
        match self.node(id) {
            Node::Record(r) => format!("record {}", r.name),
            Node::Enum { name, .. } => format!("enum {name}"),
            Node::Fixed { name, size } => format!("fixed {name} ({size} bytes)"),
            Node::Array(items) => format!("array of {}", self.short(*items)),
            Node::Map(values) => format!("map of {}", self.short(*values)),
            Node::Union(branches) => {
                let names: Vec<String> = branches.iter().map(|b| self.short(*b)).collect();
                format!("union [{}]", names.join(", "))
            }
            _ => self.short(id),
        }
    }

    pub(crate) fn short(&self, id: NodeId) -> String {
        match self.node(id) {
            Node::Record(r) => r.name.to_string(),
            Node::Enum { name, .. } | Node::Fixed { name, .. } => name.to_string(),
            Node::Array(_) => "array".into(),
            Node::Map(_) => "map".into(),
            Node::Union(_) => "union".into(),
            primitive => PRIMITIVES
                .iter()
                .find(|(_, p)| std::mem::discriminant(p) == std::mem::discriminant(primitive))
                .map_or("?", |(name, _)| name)
                .to_owned(),
        }
    }

    /// The record inside a node: the node itself, or the first record branch of a union
    /// (`["null", Address]`).
    pub(crate) fn record_within(&self, id: NodeId) -> Option<&Record> {
        match self.node(id) {
            Node::Record(r) => Some(r),
            Node::Union(branches) => branches.iter().find_map(|b| match self.node(*b) {
                Node::Record(r) => Some(r),
                _ => None,
            }),
            _ => None,
        }
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("root", &self.inner.describe(self.inner.root))
            .field("types", &self.inner.nodes.len())
            .finish()
    }
}

impl std::str::FromStr for Schema {
    type Err = SchemaError;

    fn from_str(json: &str) -> Result<Self, SchemaError> {
        Self::parse(json)
    }
}

impl Schema {
    /// Parses a schema from its JSON text.
    ///
    /// # Errors
    /// [`SchemaError`] when the text is not JSON or not a valid Avro schema.
    pub fn parse(json: &str) -> Result<Self, SchemaError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| SchemaError::new(format!("not JSON: {e}")))?;
        Self::from_value(&value)
    }

    /// Parses a schema from JSON already read.
    ///
    /// # Errors
    /// [`SchemaError`] when the value is not a valid Avro schema.
    pub fn from_value(value: &Value) -> Result<Self, SchemaError> {
        let mut parser = Parser {
            nodes: PRIMITIVES.iter().map(|(_, n)| n.clone()).collect(),
            names: BTreeMap::new(),
        };
        let root = parser.parse(value, "", 0)?;
        let zero_width = zero_width(&parser.nodes);
        Ok(Self {
            inner: Arc::new(Inner {
                nodes: parser.nodes,
                zero_width,
                root,
            }),
        })
    }

    /// The full name of the top-level type, when it is named (`com.sforce.eventbus.Order_Event__e`).
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        match self.inner.node(self.inner.root) {
            Node::Record(r) => Some(&r.name),
            Node::Enum { name, .. } | Node::Fixed { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The field names of the top-level record, in declaration order (empty if the schema is not
    /// a record). A change event's bitmaps index into this list.
    #[must_use]
    pub fn field_names(&self) -> Vec<&str> {
        match self.inner.node(self.inner.root) {
            Node::Record(r) => r.fields.iter().map(|f| &*f.name).collect(),
            _ => Vec::new(),
        }
    }

    /// The field names of the record held by top-level field `index` (a compound field such as
    /// an address, `["null", Address]`), or `None` if that field holds no record.
    #[must_use]
    pub fn nested_field_names(&self, index: usize) -> Option<Vec<&str>> {
        let Node::Record(root) = self.inner.node(self.inner.root) else {
            return None;
        };
        let field = root.fields.get(index)?;
        let record = self.inner.record_within(field.node)?;
        Some(record.fields.iter().map(|f| &*f.name).collect())
    }
}

struct Parser {
    nodes: Vec<Node>,
    /// Named types by full name. A `BTreeMap`: std's `HashMap` seeds itself from the OS, which
    /// the core never asks for.
    names: BTreeMap<String, NodeId>,
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

fn str_attr<'v>(obj: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v str> {
    obj.get(key).and_then(Value::as_str)
}

impl Parser {
    fn push(&mut self, node: Node) -> Result<NodeId, SchemaError> {
        let id = NodeId::try_from(self.nodes.len())
            .map_err(|_| SchemaError::new("too many types in one schema"))?;
        self.nodes.push(node);
        Ok(id)
    }

    fn parse(
        &mut self,
        value: &Value,
        namespace: &str,
        depth: usize,
    ) -> Result<NodeId, SchemaError> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(SchemaError::new(format!(
                "types nested deeper than {MAX_SCHEMA_DEPTH} levels"
            )));
        }
        match value {
            Value::String(name) => self.reference(name, namespace),
            Value::Array(branches) => self.union(branches, namespace, depth),
            Value::Object(obj) => self.complex(obj, namespace, depth),
            other => Err(SchemaError::new(format!(
                "a type must be a name, an object or a union array, not `{other}`"
            ))),
        }
    }

    fn reference(&mut self, name: &str, namespace: &str) -> Result<NodeId, SchemaError> {
        if let Some(id) = PRIMITIVES.iter().position(|(p, _)| *p == name) {
            return Ok(id as NodeId);
        }
        self.names
            .get(&full_name(name, namespace))
            .or_else(|| self.names.get(name))
            .copied()
            .ok_or_else(|| {
                SchemaError::new(format!(
                    "unknown type `{name}` (named types must be defined before they are used)"
                ))
            })
    }

    fn union(
        &mut self,
        branches: &[Value],
        namespace: &str,
        depth: usize,
    ) -> Result<NodeId, SchemaError> {
        let mut ids = Vec::with_capacity(branches.len());
        for branch in branches {
            let id = self.parse(branch, namespace, depth + 1)?;
            let node = &self.nodes[id as usize];
            if matches!(node, Node::Union(_)) {
                return Err(SchemaError::new(
                    "a union may not directly contain another union",
                ));
            }
            let named = matches!(
                node,
                Node::Record(_) | Node::Enum { .. } | Node::Fixed { .. }
            );
            let clash = ids.iter().any(|&other: &NodeId| {
                if named {
                    other == id
                } else {
                    std::mem::discriminant(&self.nodes[other as usize])
                        == std::mem::discriminant(node)
                }
            });
            if clash {
                return Err(SchemaError::new(format!(
                    "union {branches:?} holds the same type twice"
                )));
            }
            ids.push(id);
        }
        if ids.is_empty() {
            return Err(SchemaError::new("a union needs at least one branch"));
        }
        self.push(Node::Union(ids.into()))
    }

    fn name_of(
        &self,
        obj: &serde_json::Map<String, Value>,
        namespace: &str,
        kind: &str,
    ) -> Result<(String, String), SchemaError> {
        let name = str_attr(obj, "name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| SchemaError::new(format!("a {kind} needs a non-empty \"name\"")))?;
        let namespace = str_attr(obj, "namespace").unwrap_or(namespace);
        let full = full_name(name, namespace);
        if self.names.contains_key(&full) {
            return Err(SchemaError::new(format!(
                "the type `{full}` is defined twice"
            )));
        }
        // The namespace of types nested in this one: the full name without its last part.
        let inner_ns = full.rsplit_once('.').map_or("", |(ns, _)| ns).to_owned();
        Ok((full, inner_ns))
    }

    fn complex(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        namespace: &str,
        depth: usize,
    ) -> Result<NodeId, SchemaError> {
        let kind = match obj.get("type") {
            Some(Value::String(kind)) => kind.as_str(),
            // `{"type": {...}}` or `{"type": [...]}`: a type wrapped in an object.
            Some(inner @ (Value::Object(_) | Value::Array(_))) => {
                return self.parse(inner, namespace, depth + 1);
            }
            _ => {
                return Err(SchemaError::new(format!(
                    "a type object needs a \"type\": {obj:?}"
                )));
            }
        };
        match kind {
            "record" | "error" => self.record(obj, namespace, depth),
            "enum" => {
                let (name, _) = self.name_of(obj, namespace, "enum")?;
                let symbols = obj
                    .get("symbols")
                    .and_then(Value::as_array)
                    .ok_or_else(|| SchemaError::new(format!("enum {name} needs \"symbols\"")))?;
                let mut out: Vec<Box<str>> = Vec::with_capacity(symbols.len());
                for symbol in symbols {
                    let symbol = symbol.as_str().ok_or_else(|| {
                        SchemaError::new(format!("enum {name} has a symbol that is not a string"))
                    })?;
                    if out.iter().any(|s| &**s == symbol) {
                        return Err(SchemaError::new(format!(
                            "enum {name} lists the symbol {symbol} twice"
                        )));
                    }
                    out.push(symbol.into());
                }
                let id = self.push(Node::Enum {
                    name: name.clone().into(),
                    symbols: out.into(),
                })?;
                self.names.insert(name, id);
                Ok(id)
            }
            "fixed" => {
                let (name, _) = self.name_of(obj, namespace, "fixed")?;
                let size = obj
                    .get("size")
                    .and_then(Value::as_u64)
                    .and_then(|s| usize::try_from(s).ok())
                    .ok_or_else(|| {
                        SchemaError::new(format!("fixed {name} needs a non-negative \"size\""))
                    })?;
                let id = self.push(Node::Fixed {
                    name: name.clone().into(),
                    size,
                })?;
                self.names.insert(name, id);
                Ok(id)
            }
            "array" => {
                let items = obj
                    .get("items")
                    .ok_or_else(|| SchemaError::new("an array needs \"items\""))?;
                let items = self.parse(items, namespace, depth + 1)?;
                self.push(Node::Array(items))
            }
            "map" => {
                let values = obj
                    .get("values")
                    .ok_or_else(|| SchemaError::new("a map needs \"values\""))?;
                let values = self.parse(values, namespace, depth + 1)?;
                self.push(Node::Map(values))
            }
            // A primitive with attributes (`{"type": "long", "logicalType": "timestamp-millis"}`)
            // or a reference to a named type.
            other => self.reference(other, namespace),
        }
    }

    fn record(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        namespace: &str,
        depth: usize,
    ) -> Result<NodeId, SchemaError> {
        let (name, inner_ns) = self.name_of(obj, namespace, "record")?;
        let declared = obj
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| SchemaError::new(format!("record {name} needs a \"fields\" array")))?;
        // Registered before its fields, so that a field may refer to the record itself.
        let id = self.push(Node::Record(Record {
            name: name.clone().into(),
            fields: Box::new([]),
        }))?;
        self.names.insert(name.clone(), id);
        let mut fields: Vec<Field> = Vec::with_capacity(declared.len());
        for field in declared {
            let field = field.as_object().ok_or_else(|| {
                SchemaError::new(format!("record {name} has a field that is not an object"))
            })?;
            let field_name = str_attr(field, "name")
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    SchemaError::new(format!("record {name} has a field without a \"name\""))
                })?;
            if fields.iter().any(|f| &*f.name == field_name) {
                return Err(SchemaError::new(format!(
                    "record {name} declares the field {field_name} twice"
                )));
            }
            let ty = field.get("type").ok_or_else(|| {
                SchemaError::new(format!("field {name}.{field_name} has no \"type\""))
            })?;
            let node = self.parse(ty, &inner_ns, depth + 1).map_err(|e| {
                SchemaError::new(format!("in field {name}.{field_name}: {}", e.detail))
            })?;
            fields.push(Field {
                name: field_name.into(),
                node,
                default: field.get("default").cloned(),
            });
        }
        if let Node::Record(record) = &mut self.nodes[id as usize] {
            record.fields = fields.into();
        }
        Ok(id)
    }
}

/// Which nodes can be encoded in zero bytes: null, zero-size fixed, records of only such fields.
/// Records start as "zero width" and lose it until nothing changes. A record that can only hold
/// itself stays zero width, which only makes the decoder's limits stricter for it.
fn zero_width(nodes: &[Node]) -> Vec<bool> {
    let mut zero: Vec<bool> = nodes
        .iter()
        .map(|n| {
            matches!(
                n,
                Node::Null | Node::Record(_) | Node::Fixed { size: 0, .. }
            )
        })
        .collect();
    loop {
        let mut changed = false;
        for (i, node) in nodes.iter().enumerate() {
            if let Node::Record(r) = node {
                if zero[i] && r.fields.iter().any(|f| !zero[f.node as usize]) {
                    zero[i] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            return zero;
        }
    }
}
