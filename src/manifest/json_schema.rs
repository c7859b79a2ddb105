//! `lathe schema`: the JSON Schema of `album.yaml` (and of a preset file),
//! for editors (yaml-language-server completes and checks against it) and
//! for CI. It is generated from the parser's own types, `schema::Raw*`,
//! through schemars, which reads their serde attributes: the same keys, the
//! same types, unknown keys refused. Then the ranges of `limits::ALL`, the
//! check ids and thresholds of `qc`, the defaults and the built-in presets
//! are written in, so the schema refuses what `lathe check` refuses, short of
//! what only the audio can tell (a file that does not exist, a rate too low
//! for a deliverable).
//!
//! Draft 7: the draft yaml-language-server and most editors read.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::limits::{self, Limit};
use super::schema::{RawManifest, RawPreset};
use super::{defaults, preset};
use crate::qc::{CheckId, Threshold};

/// The schema of an album manifest.
pub fn manifest() -> Value {
    let mut root = generate::<RawManifest>();
    root["title"] = json!("lathe album manifest");
    root["description"] = json!(
        "An album for `lathe master`: the tracks in order, the target, the chain and the deliverables. \
         Print this schema with `lathe schema`."
    );
    root["properties"]["version"] =
        json!({ "const": super::VERSION, "description": "The manifest format: 1." });
    annotate(&mut root);
    root
}

/// The schema of a preset file (`configs/NAME.yaml`, or one given by path).
pub fn preset() -> Value {
    let mut root = generate::<RawPreset>();
    root["title"] = json!("lathe preset");
    root["description"] =
        json!("Target, chain, deliverables and QC that an album names with `target.preset`.");
    annotate(&mut root);
    root
}

fn generate<T: schemars::JsonSchema>() -> Value {
    SchemaSettings::draft07().into_generator().into_root_schema_for::<T>().to_value()
}

/// The ranges, ids, thresholds, defaults and presets the types do not carry.
fn annotate(root: &mut Value) {
    for limit in limits::ALL {
        for path in limit_paths(limit) {
            if let Some(at) = pointer(root, &path) {
                let leaf = leaf(root, &at);
                leaf.insert("minimum".into(), json!(limit.lo));
                leaf.insert("maximum".into(), json!(limit.hi));
            }
        }
    }
    for (path, value) in default_values() {
        if let Some(at) = pointer(root, path) {
            leaf(root, &at).insert("default".into(), value);
        }
    }
    if let Some(at) = pointer(root, "target.preset") {
        let names: Vec<&str> = preset::BUILTIN.iter().map(|(name, _)| *name).collect();
        *leaf(root, &at) = Map::from_iter([(
            "anyOf".to_string(),
            json!([
                { "enum": names, "description": "a preset built into lathe (configs/)" },
                { "type": "string", "description": "a preset file, relative to the manifest" },
                { "type": "null" },
            ]),
        )]);
    }
    if let Some(at) = pointer(root, "qc.fail_on[]") {
        let ids: Vec<&str> = CheckId::all().map(CheckId::as_str).collect();
        leaf(root, &at).insert("enum".into(), json!(ids));
    }
    if let Some(at) = pointer(root, "qc.thresholds") {
        let properties: Map<String, Value> = Threshold::all()
            .map(|t| {
                let (lo, hi) = t.range();
                let kind = if t.whole() { "integer" } else { "number" };
                (
                    t.key().to_string(),
                    json!({ "type": kind, "minimum": lo, "maximum": hi, "default": t.default_value() }),
                )
            })
            .collect();
        let node = leaf(root, &at);
        node.insert("properties".into(), Value::Object(properties));
        node.insert("additionalProperties".into(), json!(false));
    }
}

/// The keys a limit holds for: `tracks[].start_s, end_s` is two; a sum of
/// keys (a track's own target) is no one key.
fn limit_paths(limit: &Limit) -> Vec<String> {
    if limit.key.contains(" + ") {
        return Vec::new();
    }
    let mut keys = limit.key.split(", ");
    let first = keys.next().unwrap_or_default();
    let parent = first.rsplit_once('.').map_or("", |(p, _)| p);
    std::iter::once(first.to_string())
        .chain(keys.map(|k| if parent.is_empty() { k.to_string() } else { format!("{parent}.{k}") }))
        .collect()
}

/// Every default a key's absence stands for.
fn default_values() -> [(&'static str, Value); 10] {
    [
        ("target.loudness_lufs", json!(defaults::LOUDNESS_LUFS)),
        ("target.true_peak_dbtp", json!(defaults::TRUE_PEAK_DBTP)),
        ("target.max_gain_db", json!(defaults::MAX_GAIN_DB)),
        ("target.tolerance_lu", json!(defaults::TOLERANCE_LU)),
        ("target.mode", serde_json::to_value(defaults::MODE).unwrap_or_default()),
        ("target.album_anchor", serde_json::to_value(defaults::ALBUM_ANCHOR).unwrap_or_default()),
        ("deliverables[].bit_depth", json!(defaults::BIT_DEPTH)),
        ("deliverables[].bitrate_kbps", json!(defaults::MP3_KBPS)),
        ("sequence.gap_s", json!(defaults::GAP_S)),
        ("sequence.trim.threshold_db", json!(defaults::TRIM_THRESHOLD_DB)),
    ]
}

/// The JSON pointer of a manifest key (`chain.eq[].freq_hz`) in the schema,
/// through `$ref`s and the branches of `anyOf` (an `Option`) and `oneOf`.
pub(crate) fn pointer(root: &Value, key: &str) -> Option<String> {
    let mut at = String::new();
    for part in key.split('.') {
        let (name, items) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        at = find(root, &at, &|node, p| {
            node["properties"].get(name).map(|_| format!("{p}/properties/{name}"))
        })?;
        if items {
            at = find(root, &at, &|node, p| node.get("items").map(|_| format!("{p}/items")))?;
        }
    }
    Some(at)
}

/// The first place under `at` (itself, what it refers to, or one of its
/// branches) where `step` finds what it looks for.
fn find(root: &Value, at: &str, step: &dyn Fn(&Value, &str) -> Option<String>) -> Option<String> {
    let node = root.pointer(at)?;
    if let Some(found) = step(node, at) {
        return Some(found);
    }
    if let Some(target) = node["$ref"].as_str() {
        return find(root, target.trim_start_matches('#'), step);
    }
    ["anyOf", "oneOf", "allOf"].iter().find_map(|k| {
        let branches = node[*k].as_array()?;
        (0..branches.len()).find_map(|i| find(root, &format!("{at}/{k}/{i}"), step))
    })
}

/// The object at `at`, where keywords can be added. A bare `$ref` is
/// wrapped first: in draft 7 a `$ref`'s siblings are ignored.
fn leaf<'a>(root: &'a mut Value, at: &str) -> &'a mut Map<String, Value> {
    let node = root.pointer_mut(at).expect("a pointer found in this schema");
    if let Some(target) = node.get("$ref").cloned() {
        *node = json!({ "allOf": [{ "$ref": target }] });
    }
    if !node.is_object() {
        *node = json!({});
    }
    node.as_object_mut().expect("made an object above")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_lands_on_its_key() {
        let schema = manifest();
        for limit in limits::ALL {
            for path in limit_paths(limit) {
                let at = pointer(&schema, &path).unwrap_or_else(|| panic!("{path} is not in the schema"));
                let node = schema.pointer(&at).unwrap();
                assert_eq!(node["minimum"], json!(limit.lo), "{path}");
                assert_eq!(node["maximum"], json!(limit.hi), "{path}");
            }
        }
        // The sum of two keys is the one limit without a key of its own.
        let keyless: Vec<&str> =
            limits::ALL.iter().filter(|l| limit_paths(l).is_empty()).map(|l| l.key).collect();
        assert_eq!(keyless, [limits::LOUDNESS_OF_A_TRACK.key]);
    }

    #[test]
    fn every_default_lands_on_its_key() {
        let schema = manifest();
        for (path, value) in default_values() {
            let at = pointer(&schema, path).unwrap_or_else(|| panic!("{path} is not in the schema"));
            assert_eq!(schema.pointer(&at).unwrap()["default"], value, "{path}");
        }
    }

    #[test]
    fn limits_shared_by_album_and_track_chains_hold_in_both() {
        let schema = manifest();
        for key in ["chain.eq[].freq_hz", "tracks[].chain.eq[].freq_hz", "tracks[].stems[].eq[].freq_hz"] {
            let at = pointer(&schema, key).unwrap_or_else(|| panic!("{key}"));
            assert_eq!(schema.pointer(&at).unwrap()["maximum"], json!(limits::EQ_FREQ.hi), "{key}");
        }
        let at = pointer(&schema, "tracks[].trim.keep_ms").unwrap();
        assert_eq!(schema.pointer(&at).unwrap()["maximum"], json!(limits::TRIM_KEEP.hi));
    }

    #[test]
    fn unknown_keys_are_refused_at_every_level() {
        let schema = manifest();
        assert_eq!(schema["additionalProperties"], json!(false));
        for key in
            ["album", "target", "chain", "chain.limiter", "tracks[]", "tracks[].stems[]", "deliverables[]"]
        {
            let at = find(&schema, &pointer(&schema, key).unwrap(), &|node, p| {
                node.get("additionalProperties").map(|_| p.to_string())
            })
            .unwrap_or_else(|| panic!("{key}"));
            assert_eq!(schema.pointer(&at).unwrap()["additionalProperties"], json!(false), "{key}");
        }
    }

    #[test]
    fn ids_thresholds_and_presets_are_listed() {
        let schema = manifest();
        let ids = &schema.pointer(&pointer(&schema, "qc.fail_on[]").unwrap()).unwrap()["enum"];
        assert_eq!(ids.as_array().unwrap().len(), CheckId::all().count());
        let thresholds = schema.pointer(&pointer(&schema, "qc.thresholds").unwrap()).unwrap();
        assert_eq!(thresholds["properties"].as_object().unwrap().len(), Threshold::all().count());
        let presets = schema.pointer(&pointer(&schema, "target.preset").unwrap()).unwrap();
        assert!(presets["anyOf"][0]["enum"].as_array().unwrap().contains(&json!("streaming")));
        assert!(preset()["properties"]["target"].is_object());
    }
}
