package subscriptions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/discoveryevent"
	"github.com/tandemhq/tandem/ent/subscription"
)

// The Go types of graph/subscriptions.graphql: gqlgen binds the GraphQL
// types of the same names to them.

// SubscriptionPage is one offset page of a person's subscriptions.
type SubscriptionPage struct {
	Items   []*ent.Subscription
	Total   int
	Offset  int
	Limit   int
	HasMore bool
}

// IngestInput is one subscription as an agent, the dashboard or a partner
// pushes it (GraphQL IngestSubscriptionInput). Nil fields were not sent.
type IngestInput struct {
	Name         string
	Amount       float64 // monthly, major units (dollars)
	BillDate     *BillDate
	TrialEndDate *string
	CardNetwork  *subscription.CardNetwork
	Category     *string
	Currency     *string
}

// IngestResult is what an ingest did (GraphQL IngestSubscriptionPayload).
type IngestResult struct {
	Subscription *ent.Subscription
	Created      bool
	// PauseURL is the signed 7-day pause link; empty when the Service has
	// no PauseLinks (the partner path, which does not return it).
	PauseURL string
}

// BillDate is a bill date as sent: a day of the month or free text. It
// accepts an integer or a string (GraphQL scalar BillDate, and JSON for the
// partner shim); Ingest checks the range and length, naming the field.
type BillDate struct {
	Day     int    // set when the value was a number (or a string holding one)
	Text    string // set otherwise
	invalid string // a number that is not a whole number, kept for the error message
}

// BillDay returns a BillDate that is a day of the month.
func BillDay(day int) *BillDate { return &BillDate{Day: day} }

// BillDateText returns a BillDate given as text ("every other Friday").
func BillDateText(text string) *BillDate { return &BillDate{Text: text} }

// UnmarshalGQL reads an Int or a String.
func (b *BillDate) UnmarshalGQL(v any) error {
	switch x := v.(type) {
	case int:
		*b = BillDate{Day: x}
	case int64:
		*b = BillDate{Day: int(max(min(x, math.MaxInt32), math.MinInt32))}
	case float64:
		b.fromFloat(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return fmt.Errorf("billDate must be a day of the month (1–31) or text")
		}
		b.fromFloat(f)
	case string:
		*b = BillDate{Text: x}
	default:
		return fmt.Errorf("billDate must be a day of the month (1–31) or text")
	}
	return nil
}

func (b *BillDate) fromFloat(f float64) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || f > math.MaxInt32 || f < math.MinInt32 {
		*b = BillDate{invalid: strconv.FormatFloat(f, 'g', -1, 64)}
		return
	}
	*b = BillDate{Day: int(f)}
}

// MarshalGQL writes the day as a number, or the text.
func (b BillDate) MarshalGQL(w io.Writer) {
	if b.Text != "" || b.Day == 0 {
		_, _ = io.WriteString(w, strconv.Quote(b.Text))
		return
	}
	_, _ = io.WriteString(w, strconv.Itoa(b.Day))
}

// UnmarshalJSON reads a JSON number or string, as the partner shim receives it.
func (b *BillDate) UnmarshalJSON(data []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if err := b.UnmarshalGQL(v); err != nil {
		return err
	}
	if b.invalid != "" {
		return fmt.Errorf("bill_date must be a whole day of the month (1–31) or text; got %s", b.invalid)
	}
	return nil
}

// ProactiveTaskKind is what an agent should act on.
type ProactiveTaskKind string

// The kinds of proactive task.
const (
	TaskTrialEnding ProactiveTaskKind = "trial_ending"
	TaskResumeDue   ProactiveTaskKind = "resume_due"
)

// UnmarshalGQL implements graphql.Unmarshaler.
func (k *ProactiveTaskKind) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	switch ProactiveTaskKind(s) {
	case TaskTrialEnding, TaskResumeDue:
		*k = ProactiveTaskKind(s)
		return nil
	}
	return fmt.Errorf("%v is not a ProactiveTaskKind", v)
}

// MarshalGQL implements graphql.Marshaler.
func (k ProactiveTaskKind) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(k)))
}

// ProactiveTask is one item of the agent's worklist.
type ProactiveTask struct {
	Kind           ProactiveTaskKind
	SubscriptionID string
	Name           string
	DueDate        string // YYYY-MM-DD
	DaysLeft       int    // negative when overdue
	AmountMonthly  float64
	Currency       string
	Message        string
	PauseURL       *string
}

// PriceHike is a price that rose beyond the noise band.
type PriceHike struct {
	SubscriptionID string
	Name           string
	OldAmount      float64
	NewAmount      float64
	Percent        float64
	Currency       string
	Since          time.Time
}

// DormantService is a subscription with no sign of use or charge for longer
// than 1.5 billing periods.
type DormantService struct {
	SubscriptionID string
	Name           string
	DaysIdle       int
	LastSeen       time.Time
	MonthlyAmount  float64
	Currency       string
}

// BillingCluster is a window of three consecutive bill days that holds
// many bills or much of the month's spend.
type BillingCluster struct {
	Days  []int
	Count int
	Total float64
	Names []string
}

// BillingHealth is the analysis behind kordi_analyze_billing_health.
type BillingHealth struct {
	HealthScore      int
	ScoreFormula     string
	PriceHikes       []*PriceHike
	Dormant          []*DormantService
	BillingClusters  []*BillingCluster
	TrialsEndingSoon int
	TotalMonthly     float64
	Currency         string
	ActiveCount      int
}

// UpcomingBill is a bill due soon.
type UpcomingBill struct {
	SubscriptionID string
	Name           string
	DueDate        string
	DaysLeft       int
	AmountMonthly  float64
	Currency       string
}

// SubscriptionPulse is the one-read snapshot (kordi://subscription-pulse).
type SubscriptionPulse struct {
	ActiveCount  int
	PausedCount  int
	TrialCount   int
	TotalMonthly float64
	Currency     string
	NextBills    []*UpcomingBill
	Tasks        []*ProactiveTask
	HealthScore  int
	GeneratedAt  time.Time
}

// SourceCount is a count of discovery events from one source.
type SourceCount struct {
	Source string
	Count  int
}

// SubscriptionAnalytics are the whole-database aggregates admins read.
type SubscriptionAnalytics struct {
	Users             int
	ShadowUsers       int
	ClaimedUsers      int
	Subscriptions     int
	Swipes            int
	Likes             int
	LikeRate          float64
	DiscoveryBySource []*SourceCount
	GeneratedAt       time.Time
}

// ShowRank is one row of the cross-person show leaderboard: aggregates only.
type ShowRank struct {
	Rank     int
	Title    string
	Likes    int
	Swipes   int
	LikeRate float64
	Provider *string
}

// CancellationRouteKind says what a cancellation link points at.
type CancellationRouteKind string

// The kinds of cancellation link.
const (
	RouteCancel  CancellationRouteKind = "cancel"
	RouteAccount CancellationRouteKind = "account"
	RouteSearch  CancellationRouteKind = "search"
)

// UnmarshalGQL implements graphql.Unmarshaler.
func (k *CancellationRouteKind) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	switch CancellationRouteKind(s) {
	case RouteCancel, RouteAccount, RouteSearch:
		*k = CancellationRouteKind(s)
		return nil
	}
	return fmt.Errorf("%v is not a CancellationRouteKind", v)
}

// MarshalGQL implements graphql.Marshaler.
func (k CancellationRouteKind) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(k)))
}

// CancellationRoute is where to cancel a subscription.
type CancellationRoute struct {
	ServiceID    string
	Name         string
	URL          string
	Kind         CancellationRouteKind
	Provider     *string
	Instructions string
}

// RecordSwipeInput is a like or pass on a show.
type RecordSwipeInput struct {
	Title    string
	Provider *string
	Liked    bool
	Source   string
}

// RecordDiscoveryInput is something discovered through a source.
type RecordDiscoveryInput struct {
	Kind      discoveryevent.Kind
	Source    string
	SubjectID *string
}
