package cluster

import storagev1 "k8s.io/api/storage/v1"

// AnnotationDefaultStorageClass, set to "true" on a StorageClass, makes it
// the class of the claims that name none.
const AnnotationDefaultStorageClass = "storageclass.kubernetes.io/is-default-class"

// IsDefaultStorageClass reports whether sc is marked as its cluster's
// default class.
func IsDefaultStorageClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[AnnotationDefaultStorageClass] == "true"
}
