package ops

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// SettingsConfigMap is the ConfigMap in Ferry's namespace on the host
// that holds the host's settings, one key per setting.
const SettingsConfigMap = "ferry-settings"

// SettingMoverImage is the setting that holds the data mover pods' image
// (the ferry image) for controllers that are not given one.
const SettingMoverImage = "mover-image"

// settingKeys are the settings a host can hold, each with what it is.
var settingKeys = map[string]string{
	SettingMoverImage: "image of the data mover pods (the ferry image), for controllers not given --mover-image",
}

// SettingKeys returns the known settings' names, sorted, with what each
// one is.
func SettingKeys() []Setting {
	var out []Setting
	for k, doc := range settingKeys {
		out = append(out, Setting{Key: k, Doc: doc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Setting is one of the host's settings.
type Setting struct {
	// Key names the setting.
	Key string
	// Value is the stored value, "" when unset.
	Value string
	// Doc says what the setting is.
	Doc string
}

// Settings returns every known setting with its stored value ("" when
// unset), sorted by key.
func (o *Client) Settings(ctx context.Context) ([]Setting, error) {
	data, err := o.settingsData(ctx)
	if err != nil {
		return nil, err
	}
	out := SettingKeys()
	for i := range out {
		out[i].Value = data[out[i].Key]
	}
	return out, nil
}

// Setting returns the stored value of key, "" when unset.
func (o *Client) Setting(ctx context.Context, key string) (string, error) {
	if err := checkSetting(key, "x"); err != nil {
		return "", err
	}
	data, err := o.settingsData(ctx)
	if err != nil {
		return "", err
	}
	return data[key], nil
}

// settingsData reads the settings ConfigMap's data; none when it does not
// exist.
func (o *Client) settingsData(ctx context.Context) (map[string]string, error) {
	var cm corev1.ConfigMap
	err := o.c.Get(ctx, o.key(SettingsConfigMap), &cm)
	if apierrors.IsNotFound(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read settings %s/%s: %w", o.namespace, SettingsConfigMap, err)
	}
	return cm.Data, nil
}

// SetSetting stores value under key on the host, creating Ferry's
// namespace and the settings ConfigMap when missing. An empty value
// removes the setting.
func (o *Client) SetSetting(ctx context.Context, key, value string) error {
	if err := checkSetting(key, value); err != nil {
		return err
	}
	if err := o.ensureNamespace(ctx); err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cm corev1.ConfigMap
		err := o.c.Get(ctx, o.key(SettingsConfigMap), &cm)
		if apierrors.IsNotFound(err) {
			if value == "" {
				return nil
			}
			cm = corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: o.namespace, Name: SettingsConfigMap,
				Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}},
				Data: map[string]string{key: value}}
			if err := o.c.Create(ctx, &cm); err != nil {
				return fmt.Errorf("create settings %s/%s: %w", o.namespace, SettingsConfigMap, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read settings %s/%s: %w", o.namespace, SettingsConfigMap, err)
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		if value == "" {
			delete(cm.Data, key)
		} else {
			cm.Data[key] = value
		}
		return o.c.Update(ctx, &cm)
	})
}

// checkSetting says what is wrong with a setting's key or value.
func checkSetting(key, value string) error {
	if _, ok := settingKeys[key]; !ok {
		var known []string
		for _, s := range SettingKeys() {
			known = append(known, s.Key)
		}
		return fmt.Errorf("unknown setting %q: the settings are %s", key, strings.Join(known, ", "))
	}
	if strings.ContainsAny(value, " \t\n") {
		return fmt.Errorf("setting %s: %q has white space", key, value)
	}
	return nil
}

// ensureNamespace creates Ferry's namespace on the host when missing.
func (o *Client) ensureNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.namespace}}
	if err := o.c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s on the host: %w", o.namespace, err)
	}
	return nil
}

// MoverImage picks the data movers' image: explicit (a flag or
// environment variable) when given, else the host's mover-image setting.
// It says where the image came from, and returns "" when neither gives
// one (the caller may then fall back, e.g. to the controller's own image).
func (o *Client) MoverImage(ctx context.Context, explicit string) (image, source string, err error) {
	if explicit != "" {
		return explicit, "given", nil
	}
	stored, err := o.Setting(ctx, SettingMoverImage)
	if err != nil || stored == "" {
		return "", "", err
	}
	return stored, "setting " + SettingMoverImage + " in " + o.namespace + "/" + SettingsConfigMap, nil
}
