package mcpadapter

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// A toolset may bound its results' size (the Subscriptions seed: "Truncates
// at 25k chars"), because a model's context is finite and one huge result
// crowds out the conversation. A result over the bound keeps its shape:
// trailing items of its top-level lists are dropped, whole, until its JSON
// text fits, and "truncated": true says so; the agent pages for the rest.
// A page (has_more with offset and limit beside it) that lost items says
// has_more: true and where the rest starts, next_offset = offset + kept
// (nextOffset beside hasMore): offset + limit would skip the dropped items.

// truncatedKey marks a result that lost items to the size bound.
const truncatedKey = "truncated"

// pageKeys are a page's paging members in one naming style.
type pageKeys struct{ hasMore, offset, limit, nextOffset string }

var pageStyles = []pageKeys{
	{"has_more", "offset", "limit", "next_offset"},
	{"hasMore", "offset", "limit", "nextOffset"},
}

// pageKeysOf returns the paging members of props (an output schema's
// properties or a result): has_more or hasMore with offset and limit.
func pageKeysOf(has func(string) bool) (pageKeys, bool) {
	for _, k := range pageStyles {
		if has(k.hasMore) && has(k.offset) && has(k.limit) {
			return k, true
		}
	}
	return pageKeys{}, false
}

// withTruncated adds the optional truncated flag to an output schema whose
// root has a list to drop items from.
func withTruncated(s object, maxChars int) object {
	props, _ := s.get("properties").(object)
	if !hasList(props) {
		return s
	}
	out := make(object, 0, len(s))
	for _, m := range s {
		if m.key == "properties" {
			p := props.set(truncatedKey, object{{"type", "boolean"},
				{"description", fmt.Sprintf("Present and true when the result exceeded %d characters and its trailing items were left out: ask for a smaller page.", maxChars)}})
			if k, ok := pageKeysOf(func(key string) bool { return props.get(key) != nil }); ok {
				p = p.set(k.nextOffset, object{{"type", "integer"},
					{"description", fmt.Sprintf("Present when the page was truncated: the offset of the first item left out. Call again with offset = %s (not offset + limit) for the rest.", k.nextOffset)}})
			}
			m.value = p
		}
		out = append(out, m)
	}
	return out
}

func hasList(props object) bool {
	for _, m := range props {
		p, _ := m.value.(object)
		switch t := p.get("type").(type) {
		case string:
			if t == "array" {
				return true
			}
		case []any:
			for _, e := range t {
				if e == "array" {
					return true
				}
			}
		}
	}
	return false
}

// truncate returns obj, or, when its JSON text is longer than maxChars
// characters, obj with trailing items of its top-level lists dropped (from
// the longest list first, as few as possible) and "truncated": true. A
// result that cannot fit even with its lists empty is returned with them
// empty: the flag still tells the agent what happened. A page that lost
// items gets has_more true and next_offset (see pageKeys).
func truncate(obj object, maxChars int) object {
	if chars(obj) <= maxChars {
		return obj
	}
	out := make(object, len(obj), len(obj)+2)
	copy(out, obj)
	out = out.set(truncatedKey, true)
	paging, isPage := pageKeysOf(func(key string) bool { return obj.get(key) != nil })
	offset, isNum := asInt(obj.get(paging.offset))
	isPage = isPage && isNum
	// keep cuts list i to n items and, on a page, says where the rest
	// starts: inside the search, so the added members count towards the
	// bound. The page's list is the first one cut (a page has one list).
	pageList := -1
	keep := func(i int, list []any, n int) {
		out[i].value = list[:n]
		if isPage && n < len(list) && (pageList < 0 || pageList == i) {
			pageList = i
			out = replace(out, paging.hasMore, true)
			out = replace(out, paging.nextOffset, offset+int64(n))
		}
	}
	for {
		i := longestList(out)
		if i < 0 {
			return out
		}
		list := out[i].value.([]any)
		// The most items that fit, by binary search over the kept length:
		// fits(n) is monotone, since dropping an item never lengthens the
		// text (nor does a smaller next_offset).
		lo, hi := 0, len(list)-1 // the full list did not fit
		for lo < hi {
			mid := (lo + hi + 1) / 2
			keep(i, list, mid)
			if chars(out) <= maxChars {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		keep(i, list, lo)
		if lo > 0 || chars(out) <= maxChars {
			return out
		}
	}
}

// replace sets key in o, in place when present, else at the end.
func replace(o object, key string, value any) object {
	for i := range o {
		if o[i].key == key {
			o[i].value = value
			return o
		}
	}
	return o.set(key, value)
}

// asInt reads a whole JSON number as reshape decodes it (json.Number).
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

// longestList is the index of the top-level member holding the longest
// non-empty list, or -1.
func longestList(o object) int {
	best, n := -1, 0
	for i, m := range o {
		if l, ok := m.value.([]any); ok && len(l) > n {
			best, n = i, len(l)
		}
	}
	return best
}

func chars(o object) int {
	return utf8.RuneCount(encodeObject(o))
}
