//! Which crates of a package's dependency graph compile C code, and so need a C cross compiler.

use std::collections::{BTreeSet, VecDeque};

use cargo_metadata::{DependencyKind, Metadata, PackageId};

/// Build-time crates that drive a C compiler.
const C_BUILD_CRATES: &[&str] = &["cc", "cmake"];

/// The names of the packages reachable from `root` (normal and build dependencies, not dev) that compile C:
/// they declare `links`, or a build dependency on `cc` or `cmake`. Sorted, without duplicates.
#[must_use]
pub fn c_code_packages(metadata: &Metadata, root: &PackageId) -> Vec<String> {
    let Some(resolve) = &metadata.resolve else { return Vec::new() };
    let mut found = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([root.clone()]);
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(node) = resolve.nodes.iter().find(|n| n.id == id) else { continue };
        let package = metadata.packages.iter().find(|p| p.id == id);
        let drives_c = node.deps.iter().any(|dep| {
            let name = metadata.packages.iter().find(|p| p.id == dep.pkg).map(|p| p.name.to_string());
            name.is_some_and(|n| C_BUILD_CRATES.contains(&n.as_str()))
                && dep.dep_kinds.iter().any(|k| k.kind == DependencyKind::Build)
        });
        if let Some(package) = package
            && (drives_c || package.links.is_some())
            && !C_BUILD_CRATES.contains(&package.name.as_str())
        {
            found.insert(package.name.to_string());
        }
        for dep in &node.deps {
            if dep.dep_kinds.iter().any(|k| k.kind != DependencyKind::Development) {
                queue.push_back(dep.pkg.clone());
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph in cargo metadata's JSON shape: app -> ring (build-dep cc) -> untrusted; app -> serde;
    /// app dev-depends on openssl-sys (links), which must not count.
    fn metadata() -> Metadata {
        let package = |name: &str, links: Option<&str>| {
            serde_json::json!({
                "name": name, "version": "1.0.0", "id": format!("{name} 1.0.0"), "source": null,
                "dependencies": [], "targets": [], "features": {}, "manifest_path": format!("/r/{name}/Cargo.toml"),
                "links": links, "authors": [], "categories": [], "keywords": [], "edition": "2021", "metadata": null,
                "publish": null, "license": null, "license_file": null, "description": null, "readme": null,
                "repository": null, "homepage": null, "documentation": null, "rust_version": null
            })
        };
        let dep = |name: &str, kind: Option<&str>| serde_json::json!({ "name": name, "pkg": format!("{name} 1.0.0"), "dep_kinds": [{ "kind": kind, "target": null }] });
        let node = |name: &str, deps: Vec<serde_json::Value>| serde_json::json!({ "id": format!("{name} 1.0.0"), "deps": deps, "dependencies": [], "features": [] });
        serde_json::from_value(serde_json::json!({
            "packages": [package("app", None), package("ring", None), package("cc", None), package("untrusted", None),
                         package("serde", None), package("openssl-sys", Some("openssl"))],
            "workspace_members": ["app 1.0.0"],
            "workspace_default_members": ["app 1.0.0"],
            "resolve": { "root": "app 1.0.0", "nodes": [
                node("app", vec![dep("ring", None), dep("serde", None), dep("openssl-sys", Some("dev"))]),
                node("ring", vec![dep("cc", Some("build")), dep("untrusted", None)]),
                node("cc", vec![]), node("untrusted", vec![]), node("serde", vec![]), node("openssl-sys", vec![]),
            ]},
            "target_directory": "/r/target", "build_directory": "/r/target", "version": 1, "workspace_root": "/r", "metadata": null
        }))
        .expect("metadata JSON")
    }

    #[test]
    fn finds_crates_that_build_c_and_ignores_dev_dependencies() {
        let metadata = metadata();
        let root = PackageId { repr: "app 1.0.0".to_owned() };
        assert_eq!(c_code_packages(&metadata, &root), vec!["ring".to_owned()]);
    }

    #[test]
    fn a_pure_rust_graph_needs_no_c() {
        let metadata = metadata();
        let root = PackageId { repr: "serde 1.0.0".to_owned() };
        assert!(c_code_packages(&metadata, &root).is_empty());
    }
}
