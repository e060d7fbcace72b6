//! Serde pieces that read untrusted JSON the way `serde_json::Value` accessors do, without
//! building a `Value`: a field of the wrong type reads as absent (as `v.get(k).as_str()` would
//! give `None`), never as an error that loses the whole object. `cluster.rs` derives its
//! compact Kubernetes views from these, one pass over each object's bytes.

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::num::NonZeroI64;
use std::sync::Arc;

/// A JSON scalar as read, or `Other` for an object or array (skipped without being built).
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    Str(Box<str>),
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Null,
    Other,
}

impl<'de> Deserialize<'de> for Leaf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Leaf, D::Error> {
        d.deserialize_any(LeafVisitor)
    }
}

struct LeafVisitor;

impl<'de> Visitor<'de> for LeafVisitor {
    type Value = Leaf;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<Leaf, E> {
        Ok(Leaf::Str(v.into()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Leaf, E> {
        Ok(Leaf::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Leaf, E> {
        Ok(Leaf::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Leaf, E> {
        Ok(Leaf::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Leaf, E> {
        Ok(Leaf::F64(v))
    }
    fn visit_unit<E>(self) -> Result<Leaf, E> {
        Ok(Leaf::Null)
    }
    fn visit_none<E>(self) -> Result<Leaf, E> {
        Ok(Leaf::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Leaf, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Leaf, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Leaf::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Leaf, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Leaf::Other)
    }
}

/// A string as kept in parsed objects: shared, so that the thousands of copies of a
/// namespace, node name, image, phase or condition type in a big pod list are one. One
/// pointer wide, and `Option<Text>` too: a pod holds about sixty of them.
pub type Text = arcstr::ArcStr;

/// What a parse thread has read so far, to share rather than keep twice: strings, and the
/// lists read as [`Shared`]. Hashed with a per-set random seed (bundle text is untrusted, and
/// a hash it could steer would make lookups slow).
#[derive(Default)]
struct Seen {
    strings: HashSet<Text, foldhash::fast::RandomState>,
    /// One `HashSet<Arc<[T]>>` for each element type `T`.
    lists: HashMap<TypeId, Box<dyn Any>>,
}

thread_local! {
    /// What the parse running on this thread has read (see [`interning`]).
    static SEEN: RefCell<Option<Seen>> = const { RefCell::new(None) };
}

/// Strings longer than this (messages) are kept as they are, not looked up.
const SHARED_UP_TO: usize = 96;

/// Runs `parse` with short strings ([`Text`]) and [`Shared`] lists shared: an equal one read
/// before on this thread in the same call is reused. 150,000 pods hold millions of strings,
/// most of them repeats, and the pods of one workload have the same containers and labels;
/// each one its own allocation cost more than the rest of the parsed pods.
pub fn interning<R>(parse: impl FnOnce() -> R) -> R {
    struct Restore(Option<Seen>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            SEEN.with(|s| *s.borrow_mut() = before);
        }
    }
    let _restore = Restore(SEEN.with(|s| s.borrow_mut().replace(Seen::default())));
    parse()
}

/// `s` as a [`Text`], shared with an equal one seen before while [`interning`].
fn text(s: &str) -> Text {
    if s.len() > SHARED_UP_TO {
        return s.into();
    }
    SEEN.with(|seen| match &mut *seen.borrow_mut() {
        Some(Seen { strings: set, .. }) => match set.get(s) {
            Some(t) => t.clone(),
            None => {
                let t: Text = s.into();
                set.insert(t.clone());
                t
            }
        },
        None => s.into(),
    })
}

/// A string, or `None` for any other value (which is skipped without being built).
struct MaybeText(Option<Text>);

impl<'de> Deserialize<'de> for MaybeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MaybeText, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<MaybeText, E> {
                Ok(MaybeText(Some(text(v))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_none<E>(self) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<MaybeText, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MaybeText, A::Error> {
                LeafVisitor.visit_map(map).map(|_| MaybeText(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<MaybeText, A::Error> {
                LeafVisitor.visit_seq(seq).map(|_| MaybeText(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string field (`v.get(k).and_then(Value::as_str)`).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Text>, D::Error> {
    Ok(MaybeText::deserialize(d)?.0)
}

/// A boolean field (`as_bool`).
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Leaf::deserialize(d)? {
        Leaf::Bool(b) => Some(b),
        _ => None,
    })
}

/// A signed integer field (`as_i64`: integers only).
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Leaf::deserialize(d)? {
        Leaf::I64(i) => Some(i),
        Leaf::U64(u) => i64::try_from(u).ok(),
        _ => None,
    })
}

/// A count: a non-negative integer, a negative one read as 0, or a number in a string (as
/// some tools write counts).
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Leaf::deserialize(d)? {
        Leaf::U64(u) => Some(u),
        Leaf::I64(i) => Some(i.max(0) as u64),
        Leaf::Str(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Parses an RFC 3339 time as Kubernetes and gcloud write it.
pub fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.trim().parse::<jiff::Timestamp>().ok()
}

/// A time as kept in parsed objects: microseconds since the Unix epoch in one word, and
/// `Option<Time>` one word too (a pod list holds about ten times a pod). Kubernetes writes
/// seconds (`metav1.Time`) or microseconds (`MicroTime`); digits past those are dropped.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time(NonZeroI64);

impl Time {
    /// Every timestamp jiff reads is within ±10,000 years, far from `i64::MIN` microseconds:
    /// flipping the sign bit leaves zero free for `None`.
    fn new(t: jiff::Timestamp) -> Option<Time> {
        NonZeroI64::new(t.as_microsecond() ^ i64::MIN).map(Time)
    }

    pub fn get(self) -> jiff::Timestamp {
        jiff::Timestamp::from_microsecond(self.0.get() ^ i64::MIN).unwrap_or_default()
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// An RFC 3339 time (an unparsable one reads as absent).
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Time>, D::Error> {
    // Times are read from the borrowed bytes: each one is unique, and none is kept as text.
    Ok(match Leaf::deserialize(d)? {
        Leaf::Str(s) => parse_time(&s).and_then(Time::new),
        _ => None,
    })
}

/// Whether the field is set to anything but `null`.
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Leaf::deserialize(d)? != Leaf::Null)
}

/// Key and value pairs of an object, in the order written.
pub type StringMap = Shared<(Text, Text)>;

/// The string entries of an object (labels, annotations); others are left out.
pub fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<StringMap, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = StringMap;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of strings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(MaybeText(k)) = map.next_key::<MaybeText>()? {
                let Some(k) = k else {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                };
                match map.next_value::<MaybeText>()?.0 {
                    Some(v) => match out.iter_mut().find(|(x, _)| *x == k) {
                        // A repeated key: the last one counts, as in a parsed object.
                        Some((_, old)) => *old = v,
                        None => out.push((k, v)),
                    },
                    None => out.retain(|(x, _)| *x != k),
                }
            }
            Ok(share(out.into_boxed_slice()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            LeafVisitor.visit_seq(seq).map(|_| StringMap::default())
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(StringMap::default())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(StringMap::default())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(StringMap::default())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(StringMap::default())
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(StringMap::default())
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(StringMap::default())
        }
    }
    d.deserialize_any(V)
}

/// An object read into `T` (whose fields are all lenient); anything else reads as
/// `T::default()`, as a missing object would.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Obj)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Obj<T>, A::Error> {
                LeafVisitor.visit_seq(seq).map(|_| Obj(T::default()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Obj<T>, E> {
                Ok(Obj(T::default()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Obj<T>, E> {
                Ok(Obj(T::default()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Obj<T>, E> {
                Ok(Obj(T::default()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Obj<T>, E> {
                Ok(Obj(T::default()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Obj<T>, E> {
                Ok(Obj(T::default()))
            }
            fn visit_unit<E>(self) -> Result<Obj<T>, E> {
                Ok(Obj(T::default()))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An array of objects, each read as [`Obj`]; anything else reads as empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct List<T>(pub Box<[T]>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Box::default())
    }
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(Obj(x)) = seq.next_element::<Obj<T>>()? {
                    out.push(x);
                }
                // Kept for the whole run, once per object: no spare capacity.
                Ok(List(out.into_boxed_slice()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<T>, A::Error> {
                LeafVisitor.visit_map(map).map(|_| List::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<List<T>, E> {
                Ok(List::default())
            }
            fn visit_unit<E>(self) -> Result<List<T>, E> {
                Ok(List::default())
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An array read as [`List`], shared with an equal one read before while [`interning`]: the
/// pods of one workload have the same containers, labels and owners, so 150,000 pods hold a
/// few hundred distinct ones. Meant for lists that repeat; unique ones only cost a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shared<T>(pub Arc<[T]>);

impl<T: Hash + Eq + 'static> Default for Shared<T> {
    fn default() -> Self {
        share(Box::new([]))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'de, T> Deserialize<'de> for Shared<T>
where
    T: Deserialize<'de> + Default + Hash + Eq + 'static,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(share(List::<T>::deserialize(d)?.0))
    }
}

/// `items` as a [`Shared`], the one read before when equal.
pub fn share<T: Hash + Eq + 'static>(items: Box<[T]>) -> Shared<T> {
    type Set<T> = HashSet<Arc<[T]>, foldhash::fast::RandomState>;
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        let Some(seen) = seen.as_mut() else {
            return Shared(items.into());
        };
        let set = seen
            .lists
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(Set::<T>::default()))
            .downcast_mut::<Set<T>>()
            .expect("one set type per element type");
        if let Some(kept) = set.get(&*items) {
            return Shared(Arc::clone(kept));
        }
        let kept: Arc<[T]> = items.into();
        set.insert(Arc::clone(&kept));
        Shared(kept)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct T {
        #[serde(deserialize_with = "string")]
        name: Option<Text>,
        #[serde(deserialize_with = "count")]
        n: Option<u64>,
        inner: Option<Obj<T2>>,
        list: List<T2>,
        #[serde(deserialize_with = "string_map")]
        labels: StringMap,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct T2 {
        #[serde(deserialize_with = "int")]
        x: Option<i64>,
    }

    #[test]
    fn wrong_types_read_as_absent_not_as_errors() {
        let t: Obj<T> = serde_json::from_str(
            r#"{"name": 3, "n": "12", "inner": "x", "list": [1, {"x": -2}, {"x": 1.5}],
               "labels": {"a": "b", "c": 1}, "other": {"deep": [1, 2]}}"#,
        )
        .unwrap();
        let t = t.0;
        assert_eq!(t.name, None);
        assert_eq!(t.n, Some(12));
        assert!(t.inner.is_some_and(|o| o.0.x.is_none()));
        let xs: Vec<Option<i64>> = t.list.0.iter().map(|e| e.x).collect();
        assert_eq!(xs, vec![None, Some(-2), None]);
        assert_eq!(*t.labels, [("a".into(), "b".into())]);
        let t: Obj<T> = serde_json::from_str(r#"[{"name": "y"}]"#).unwrap();
        assert!(t.0.name.is_none());
        let null: T = serde_json::from_str(r#"{"inner": null, "n": -4}"#).unwrap();
        assert!(null.inner.is_none());
        assert_eq!(null.n, Some(0));
    }

    #[test]
    fn strings_read_while_interning_are_shared_and_only_then() {
        let read = || -> Vec<T> {
            serde_json::from_str(r#"[{"name": "web", "labels": {"app": "web"}}, {"name": "web"}]"#)
                .unwrap()
        };
        let [a, b, c] = interning(|| {
            let t = read();
            let first = t[0].name.clone().unwrap();
            [first, t[1].name.clone().unwrap(), t[0].labels[0].1.clone()]
        });
        assert!(Text::ptr_eq(&a, &b) && Text::ptr_eq(&a, &c));
        let t = read();
        let (x, y) = (t[0].name.clone().unwrap(), t[1].name.clone().unwrap());
        assert_eq!(x, y);
        assert!(!Text::ptr_eq(&x, &y));
    }

    #[test]
    fn times_keep_microseconds_in_one_word_over_the_whole_range() {
        assert_eq!(std::mem::size_of::<Option<Time>>(), 8);
        for (written, kept) in [
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
            ("-009999-01-03T00:00:00Z", "-009999-01-03T00:00:00Z"),
            ("9999-12-30T00:00:00Z", "9999-12-30T00:00:00Z"),
            ("2026-11-19T21:59:00.123456Z", "2026-11-19T21:59:00.123456Z"),
            (
                "2026-11-19T21:59:00.123456789Z",
                "2026-11-19T21:59:00.123456Z",
            ),
        ] {
            let t = Time::new(parse_time(written).expect(written)).expect(written);
            assert_eq!(t.get(), parse_time(kept).unwrap(), "{written}");
        }
    }

    #[test]
    fn equal_shared_lists_are_one_while_interning() {
        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        struct P {
            #[serde(deserialize_with = "string_map")]
            labels: StringMap,
            ports: Shared<Port>,
        }
        #[derive(Debug, Default, Deserialize, PartialEq, Eq, Hash)]
        #[serde(default)]
        struct Port {
            #[serde(deserialize_with = "int")]
            port: Option<i64>,
        }
        let read = || -> Vec<P> {
            serde_json::from_str(
                r#"[{"labels": {"app": "web"}, "ports": [{"port": 80}]},
                    {"labels": {"app": "web"}, "ports": [{"port": 80}]},
                    {"labels": {"app": "db"}, "ports": [{"port": 80}, {"port": 5432}]}]"#,
            )
            .unwrap()
        };
        let p = interning(read);
        assert!(Arc::ptr_eq(&p[0].labels.0, &p[1].labels.0));
        assert!(Arc::ptr_eq(&p[0].ports.0, &p[1].ports.0));
        assert!(!Arc::ptr_eq(&p[0].ports.0, &p[2].ports.0));
        assert_eq!(p[2].ports.len(), 2);
        assert_eq!(&*p[2].labels, &[("app".into(), "db".into())]);
        let p = read();
        assert_eq!(p[0].labels, p[1].labels);
        assert!(!Arc::ptr_eq(&p[0].labels.0, &p[1].labels.0));
    }
}
