package apikey

import (
	"reflect"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	k1, k2, k3, k4 := fakeKey(11), fakeKey(12), fakeKey(13), fakeKey(14)
	short := k1[:30]
	long := k2 + "xyz"
	badChar := k3[:20] + "." + k3[21:]
	wrong := "sk-" + strings.Repeat("a1B2", 10) // 43 key characters, wrong prefix
	type mal = Malformed
	tests := []struct {
		name string
		in   string
		want Extraction
	}{
		{name: "empty", in: "", want: Extraction{}},
		{name: "blank lines", in: "\n \n\t\n", want: Extraction{}},
		{name: "one per line", in: k1 + "\n" + k2 + "\n" + k3 + "\n", want: Extraction{Keys: []string{k1, k2, k3}}},
		{name: "crlf", in: k1 + "\r\n" + k2 + "\r\n", want: Extraction{Keys: []string{k1, k2}}},
		{name: "commas semicolons tabs spaces", in: k1 + "," + k2 + " ;\t" + k3 + "  " + k4, want: Extraction{Keys: []string{k1, k2, k3, k4}}},
		{name: "quotes", in: `"` + k1 + `", '` + k2 + "' `" + k3 + "` “" + k4 + "”", want: Extraction{Keys: []string{k1, k2, k3, k4}}},
		{name: "duplicates", in: k1 + "\n" + k2 + "\n" + k1 + "," + k1 + "\n" + k2, want: Extraction{Keys: []string{k1, k2}, Duplicates: 3}},
		{name: "dotenv and shell", in: "GEMINI_API_KEY=" + k1 + "\nGOOGLE_API_KEY=\"" + k2 + "\"\nexport KEY3='" + k3 + "'\nset KEY4=" + k4, want: Extraction{Keys: []string{k1, k2, k3, k4}}},
		{name: "powershell", in: `$env:GEMINI_API_KEY="` + k1 + `"`, want: Extraction{Keys: []string{k1}}},
		{name: "json array", in: `["` + k1 + `","` + k2 + `"]`, want: Extraction{Keys: []string{k1, k2}}},
		{name: "json pretty", in: "{\n  \"keys\": [\n    \"" + k1 + "\",\n    \"" + k2 + "\"\n  ],\n  \"name\": \"my-production-gemini-keys\"\n}", want: Extraction{Keys: []string{k1, k2}}},
		{name: "json objects", in: `[{"label":"main","key":"` + k1 + `"},{"label":"backup","key":"` + k2 + `"}]`, want: Extraction{Keys: []string{k1, k2}}},
		{name: "json escaped newlines", in: `"` + k1 + `\n` + k2 + `"`, want: Extraction{Keys: []string{k1, k2}}},
		{name: "url", in: "https://generativelanguage.googleapis.com/v1beta/models?key=" + k1 + "&alt=sse", want: Extraction{Keys: []string{k1}}},
		{name: "prose", in: "Here are my keys: " + k1 + " and " + k2 + ".\nThanks!", want: Extraction{Keys: []string{k1, k2}}},
		{name: "markdown", in: "- **" + k1 + "**\n- `" + k2 + "`\n| main | " + k3 + " |", want: Extraction{Keys: []string{k1, k2, k3}}},
		{name: "zero width and nbsp", in: "\ufeff" + k1 + "\u200b\u00a0" + k2, want: Extraction{Keys: []string{k1, k2}}},
		{name: "comments ignored", in: "# my keys\n// more\n" + k1 + " # main\n# " + k2, want: Extraction{Keys: []string{k1}}},
		{name: "glued keys", in: k1 + k2, want: Extraction{Keys: []string{k1, k2}}},
		{name: "plain long words ignored", in: "internationalization-considerations matter\nsee https://aistudio.google.com/app/apikey", want: Extraction{}},
		{name: "too short", in: k1 + "\n" + short, want: Extraction{Keys: []string{k1}, Malformed: []mal{{Line: 2, Text: Mask(short), Reason: ReasonTooShort}}}},
		{name: "too long", in: long, want: Extraction{Malformed: []mal{{Line: 1, Text: Mask(long), Reason: ReasonTooLong}}}},
		{name: "invalid character", in: "x\n\n" + badChar, want: Extraction{Malformed: []mal{{Line: 3, Text: Mask(badChar), Reason: ReasonInvalidChar}}}},
		{name: "wrong prefix alone", in: k1 + "\n" + wrong, want: Extraction{Keys: []string{k1}, Malformed: []mal{{Line: 2, Text: Mask(wrong), Reason: ReasonWrongPrefix}}}},
		{name: "wrong prefix assignment", in: "GEMINI_API_KEY=" + wrong, want: Extraction{Malformed: []mal{{Line: 1, Text: Mask(wrong), Reason: ReasonWrongPrefix}}}},
		{name: "wrong prefix in list", in: k1 + ", " + wrong + ", " + k2, want: Extraction{Keys: []string{k1, k2}, Malformed: []mal{{Line: 1, Text: Mask(wrong), Reason: ReasonWrongPrefix}}}},
		{name: "numbered list", in: "1. " + k1 + "\n2. " + wrong + "\n- " + k2 + "\n• " + k3, want: Extraction{Keys: []string{k1, k2, k3}, Malformed: []mal{{Line: 2, Text: Mask(wrong), Reason: ReasonWrongPrefix}}}},
		{name: "long token in prose ignored", in: "the token " + wrong + " is not a key", want: Extraction{}},
		{name: "long value of non-key field ignored", in: `"model": "gemini-2.5-flash-preview-09-2025"`, want: Extraction{}},
		{name: "lower-case prefix", in: "my key aiza" + k1[4:], want: Extraction{Malformed: []mal{{Line: 1, Text: Mask("aiza" + k1[4:]), Reason: ReasonWrongPrefix}}}},
		{name: "masked", in: "AIza…wxyz\n" + k1[:10] + "..." + k1[35:], want: Extraction{Malformed: []mal{{Line: 1, Text: Mask("AIza…wxyz"), Reason: ReasonMasked}, {Line: 2, Text: Mask(k1[:10] + "..." + k1[35:]), Reason: ReasonMasked}}}},
		{name: "masked trailing dots", in: "my key: " + k1[:12] + "...", want: Extraction{Malformed: []mal{{Line: 1, Text: Mask(k1[:12]), Reason: ReasonMasked}}}},
		{name: "mixed", in: "keys:\n" + k1 + "\n" + short + "\n" + k1 + "\n\n" + wrong + "\n" + k2 + "\n", want: Extraction{Keys: []string{k1, k2}, Duplicates: 1, Malformed: []mal{{Line: 3, Text: Mask(short), Reason: ReasonTooShort}, {Line: 6, Text: Mask(wrong), Reason: ReasonWrongPrefix}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Extract(%q) =\n%+v, want\n%+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestExtractNeverLeaks checks that malformed tokens are reported masked.
func TestExtractNeverLeaks(t *testing.T) {
	k := fakeKey(21)
	tokens := []string{k[:30], k + "abcdef", k[:20] + "$" + k[21:], "sk-" + k[3:]}
	x := Extract(strings.Join(tokens, "\n"))
	if len(x.Malformed) != len(tokens) {
		t.Fatalf("Extract(...) reported %d malformed, want %d: %+v", len(x.Malformed), len(tokens), x.Malformed)
	}
	for _, m := range x.Malformed {
		if strings.Contains(m.Text, k[4:24]) {
			t.Errorf("Malformed.Text = %q, reveals the token", m.Text)
		}
	}
}

func TestExtractLarge(t *testing.T) {
	var b strings.Builder
	const n = 5000
	for i := range uint64(n) {
		b.WriteString(fakeKey(i))
		b.WriteString(",\n")
	}
	x := Extract(b.String() + b.String())
	if len(x.Keys) != n || x.Duplicates != n || len(x.Malformed) != 0 {
		t.Errorf("Extract(2×%d keys) = %d keys, %d duplicates, %d malformed; want %d, %d, 0", n, len(x.Keys), x.Duplicates, len(x.Malformed), n, n)
	}
}

func FuzzExtract(f *testing.F) {
	k1, k2 := fakeKey(31), fakeKey(32)
	for _, s := range []string{
		"", k1, k1 + "\n" + k2 + "\n" + k1,
		`GEMINI_API_KEY="` + k1 + `"`, `["` + k1 + `", "` + k2 + `"]`, k1 + k2,
		"# comment\n" + k1[:20], "sk-" + k1, "AIza…wxyz", "aiza" + k1[4:],
		"a=b:c \\n\\" + k1, "\xff\xfe" + k1 + "\x00", "AIza" + strings.Repeat("é", 35),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		x := Extract(in)
		seen := map[string]bool{}
		for _, k := range x.Keys {
			if !Valid(k) {
				t.Errorf("Extract(%q) returned invalid key %q", in, k)
			}
			if seen[k] {
				t.Errorf("Extract(%q) returned %q twice", in, k)
			}
			seen[k] = true
		}
		if x.Duplicates < 0 {
			t.Errorf("Extract(%q).Duplicates = %d, want >= 0", in, x.Duplicates)
		}
		lines := strings.Count(in, "\n") + 1
		for _, m := range x.Malformed {
			if m.Line < 1 || m.Line > lines || m.Reason == "" {
				t.Errorf("Extract(%q) malformed %+v: line out of [1,%d] or no reason", in, m, lines)
			}
		}
	})
}
