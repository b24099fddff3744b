// Package transform turns objects exported from the source cluster into the
// objects Ferry applies on the destination cluster.
//
// # Basics
//
// An exported object is an *unstructured.Unstructured exactly as a
// dynamic-client LIST returns it: with status, managedFields, UIDs, owner
// references, controller-generated fields and, for quiesced workloads, the
// ferry.dev/original-* annotations that keep the values quiesce changed.
// [Run] passes it through a pipeline of [Transformer] steps, each of which
// either edits the object in place or returns a skip reason when the object
// must not be applied at all (because a controller on the destination
// recreates it, or because it is being deleted).
//
// [Default] is the registry of built-in steps in the order they run. Every
// step reads the plan's mappings (namespaces, storage classes, image
// registries, Ferry's labels) and its claim list from a [Context]; the
// transforms decide nothing about claims themselves, they apply the list.
//
// # Order of the steps
//
//   - skip-recreated runs first: it needs ownerReferences, which the
//     generic step strips.
//   - service-account decides about the default ServiceAccount before
//     Ferry's labels are added (they would look user-set).
//   - workload runs before generic: it restores the values quiesce changed
//     from the ferry.dev/original-* annotations, which generic removes, and
//     renames the claims pods mount, which are named by source namespace.
//   - storage runs before generic too: the plan's claim list
//     (Context.Claims, decided by package planning) is keyed by the
//     source namespace, which generic maps.
//   - route runs before generic: a generated Route host has the form
//     NAME-NAMESPACE.<domain> with the source namespace, which generic
//     maps.
//   - image-stream runs before generic: it reads the ImageStream's status
//     (the tags' current images), which generic drops.
//   - generic strips server-populated metadata and status and maps the
//     namespace.
//   - service, rbac, deployment-config and security-context-constraints
//     are kind-specific and independent.
//   - labels runs last, so no step mistakes Ferry's labels for user data.
//
// # Caveats
//
// Transforms never look at other objects: a decision that needs the rest of
// the namespace (for example whether an Endpoints object belongs to a
// Service without a selector) is not made here. Image rewrites are plain
// string prefixes: "nginx" is not expanded to "docker.io/library/nginx".
package transform
