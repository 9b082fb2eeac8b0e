//! Property: for a generated schema and a generated value of it, encoding and decoding give the
//! value back, through the JSON decoder and through serde.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sfstream_core::pubsub::avro::Schema;

/// A schema shape, turned into Avro JSON with unique names.
#[derive(Debug, Clone)]
enum Shape {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    Str,
    Enum(Vec<String>),
    Fixed(usize),
    Array(Box<Shape>),
    Map(Box<Shape>),
    Record(Vec<Shape>),
    Union(Vec<Shape>),
}

impl Shape {
    /// Branches of a union must be told apart by the JSON value alone: at most one per group.
    fn group(&self) -> Option<u8> {
        Some(match self {
            Self::Null => 0,
            Self::Boolean => 1,
            Self::Int | Self::Long | Self::Float | Self::Double => 2,
            Self::Bytes | Self::Str | Self::Enum(_) | Self::Fixed(_) => 3,
            Self::Record(_) | Self::Map(_) => 4,
            Self::Array(_) => 5,
            Self::Union(_) => return None,
        })
    }

    fn has_bytes(&self) -> bool {
        match self {
            Self::Bytes | Self::Fixed(_) => true,
            Self::Array(s) | Self::Map(s) => s.has_bytes(),
            Self::Record(s) | Self::Union(s) => s.iter().any(Shape::has_bytes),
            _ => false,
        }
    }

    fn to_json(&self, names: &mut u32) -> Value {
        let mut name = || {
            *names += 1;
            format!("T{names}")
        };
        match self {
            Self::Null => json!("null"),
            Self::Boolean => json!("boolean"),
            Self::Int => json!("int"),
            Self::Long => json!("long"),
            Self::Float => json!("float"),
            Self::Double => json!("double"),
            Self::Bytes => json!("bytes"),
            Self::Str => json!("string"),
            Self::Enum(symbols) => json!({"type": "enum", "name": name(), "symbols": symbols}),
            Self::Fixed(size) => json!({"type": "fixed", "name": name(), "size": size}),
            Self::Array(items) => json!({"type": "array", "items": items.to_json(names)}),
            Self::Map(values) => json!({"type": "map", "values": values.to_json(names)}),
            Self::Record(fields) => {
                let n = name();
                let fields: Vec<Value> = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| json!({"name": format!("f{i}"), "type": f.to_json(names)}))
                    .collect();
                json!({"type": "record", "name": n, "fields": fields})
            }
            Self::Union(branches) => {
                Value::Array(branches.iter().map(|b| b.to_json(names)).collect())
            }
        }
    }
}

fn latin1(bytes: Vec<u8>) -> Value {
    Value::String(bytes.into_iter().map(char::from).collect())
}

fn shape() -> impl Strategy<Value = Shape> {
    let leaf = prop_oneof![
        Just(Shape::Null),
        Just(Shape::Boolean),
        Just(Shape::Int),
        Just(Shape::Long),
        Just(Shape::Float),
        Just(Shape::Double),
        Just(Shape::Bytes),
        Just(Shape::Str),
        prop::collection::btree_set("[A-Z][A-Z0-9_]{0,4}", 1..5)
            .prop_map(|s| Shape::Enum(s.into_iter().collect())),
        (0usize..6).prop_map(Shape::Fixed),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            inner.clone().prop_map(|s| Shape::Array(Box::new(s))),
            inner.clone().prop_map(|s| Shape::Map(Box::new(s))),
            prop::collection::vec(inner.clone(), 0..5).prop_map(Shape::Record),
            (any::<bool>(), prop::collection::vec(inner, 1..4)).prop_filter_map(
                "a union needs a branch",
                |(null, candidates)| {
                    let mut branches: Vec<Shape> = Vec::new();
                    if null {
                        branches.push(Shape::Null);
                    }
                    for c in candidates {
                        let Some(g) = c.group() else { continue };
                        if branches.iter().all(|b| b.group() != Some(g)) {
                            branches.push(c);
                        }
                    }
                    (!branches.is_empty()).then_some(Shape::Union(branches))
                }
            ),
        ]
    })
}

fn value(shape: &Shape) -> BoxedStrategy<Value> {
    match shape {
        Shape::Null => Just(Value::Null).boxed(),
        Shape::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        Shape::Int => any::<i32>().prop_map(|i| json!(i)).boxed(),
        Shape::Long => any::<i64>().prop_map(|i| json!(i)).boxed(),
        Shape::Float => any::<f32>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f64::from(f)))
            .boxed(),
        Shape::Double => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f))
            .boxed(),
        Shape::Bytes => prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(latin1)
            .boxed(),
        Shape::Str => ".{0,12}".prop_map(Value::String).boxed(),
        Shape::Enum(symbols) => prop::sample::select(symbols.clone())
            .prop_map(Value::String)
            .boxed(),
        Shape::Fixed(size) => prop::collection::vec(any::<u8>(), *size)
            .prop_map(latin1)
            .boxed(),
        Shape::Array(items) => prop::collection::vec(value(items), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        Shape::Map(values) => prop::collection::btree_map("[a-z]{0,4}", value(values), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
            .boxed(),
        Shape::Record(fields) => {
            let strategies: Vec<BoxedStrategy<Value>> = fields.iter().map(value).collect();
            strategies
                .prop_map(|values| {
                    let map: Map<String, Value> = values
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (format!("f{i}"), v))
                        .collect();
                    Value::Object(map)
                })
                .boxed()
        }
        Shape::Union(branches) => {
            let strategies: Vec<BoxedStrategy<Value>> = branches.iter().map(value).collect();
            prop::strategy::Union::new(strategies).boxed()
        }
    }
}

fn case() -> impl Strategy<Value = (Shape, Value)> {
    shape().prop_flat_map(|s| {
        let v = value(&s);
        (Just(s), v)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_gives_the_value_back((shape, value) in case()) {
        let schema_json = shape.to_json(&mut 0);
        let schema = Schema::from_value(&schema_json).unwrap();
        let datum = schema.encode_json(&value).unwrap();
        prop_assert_eq!(&schema.decode_json(&datum).unwrap(), &value, "schema {}", schema_json);
        // serde's path reads the same datum the same way (serde_json's Value takes no bytes).
        if !shape.has_bytes() {
            let via_serde: Value = schema.decode(&datum).unwrap();
            prop_assert_eq!(&via_serde, &value);
        }
        schema.decode::<serde::de::IgnoredAny>(&datum).unwrap();
        // Every proper prefix is an error, never a panic.
        for cut in 0..datum.len() {
            prop_assert!(schema.decode_json(&datum[..cut]).is_err());
        }
    }
}
