package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Settings are stored as name → JSON value. Validation belongs to the
// caller; the store only persists.

type settingRow struct {
	Name      string `gorm:"primaryKey"`
	Value     string
	UpdatedAt int64
}

// TableName tells gorm the table of settingRow.
func (settingRow) TableName() string { return "settings" }

// Setting returns the raw JSON value of a setting and whether it is set.
func (s *Store) Setting(ctx context.Context, name string) (json.RawMessage, bool, error) {
	var rows []settingRow
	if err := s.db.WithContext(ctx).Raw(`SELECT name, value, updated_at FROM settings WHERE name = ?`, name).Scan(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("store: setting %q: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	return json.RawMessage(rows[0].Value), true, nil
}

// Settings returns every stored setting.
func (s *Store) Settings(ctx context.Context) (map[string]json.RawMessage, error) {
	var rows []settingRow
	if err := s.db.WithContext(ctx).Raw(`SELECT name, value, updated_at FROM settings`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: settings: %w", err)
	}
	out := make(map[string]json.RawMessage, len(rows))
	for _, r := range rows {
		out[r.Name] = json.RawMessage(r.Value)
	}
	return out, nil
}

// PutSettings stores every name → value (JSON-encoded) in one transaction:
// all or nothing.
func (s *Store) PutSettings(ctx context.Context, values map[string]any) error {
	if len(values) == 0 {
		return nil
	}
	now := time.Now().UnixMilli()
	rows := make([]settingRow, 0, len(values))
	for name, v := range values {
		if name == "" {
			return errors.New("store: empty setting name")
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("store: setting %q: %w", name, err)
		}
		rows = append(rows, settingRow{Name: name, Value: string(b), UpdatedAt: now})
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "name"}},
			DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
		}).Create(&rows).Error
	})
	if err != nil {
		return fmt.Errorf("store: put settings: %w", err)
	}
	return nil
}

// DeleteSetting removes a setting (back to its default).
func (s *Store) DeleteSetting(ctx context.Context, name string) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM settings WHERE name = ?`, name).Error; err != nil {
		return fmt.Errorf("store: delete setting %q: %w", name, err)
	}
	return nil
}

// GetSetting decodes setting name into a T; def is returned when it is not
// set. A stored value that does not decode into T is an error (the caller
// decides whether to fall back to def).
func GetSetting[T any](ctx context.Context, s *Store, name string, def T) (T, error) {
	raw, ok, err := s.Setting(ctx, name)
	if err != nil || !ok {
		return def, err
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return def, fmt.Errorf("store: setting %q: %w", name, err)
	}
	return v, nil
}

// PutSetting stores v as setting name.
func PutSetting[T any](ctx context.Context, s *Store, name string, v T) error {
	return s.PutSettings(ctx, map[string]any{name: v})
}
