package corpus

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/brightspots-nic/brightspots/practices"
)

type topic struct {
	name       string
	subject    string
	grades     []string
	goal       string
	detail     string
	moves      []string
	assessment string
	std        []string // patterns; %s is the grade (K, 1 … 8) or the band for high school
}

// standards returns the topic's codes for a grade.
func (t topic) standards(grade string) []string {
	g := practices.GradeLabel(grade)
	var out []string
	for _, p := range t.std {
		switch {
		case p[0] == '!': // fixed code
			out = append(out, p[1:])
		case grade == "PK":
		default:
			gg := g
			// Grades are compared as numbers: as strings, "KG" sorts after "09" and a kindergarten
			// practice would get a high-school code.
			if n, err := strconv.Atoi(grade); err == nil && n >= 9 {
				switch {
				case strings.HasPrefix(p, "CCSS.MATH.CONTENT."):
					// High-school math codes are by conceptual category (HSA, HSF …), not grade: a
					// grade-templated code has no high-school form, so use the quantities standard.
					out = append(out, "CCSS.MATH.CONTENT.HSN.Q.A.1")
					continue
				case len(p) > 4 && p[:4] == "CCSS" && n <= 10:
					gg = "9-10"
				case len(p) > 4 && p[:4] == "CCSS":
					gg = "11-12"
				}
			}
			out = append(out, fmt.Sprintf(p, gg))
		}
	}
	return out
}

var k2 = []string{"KG", "01", "02"}
var g35 = []string{"03", "04", "05"}
var g68 = []string{"06", "07", "08"}
var hs = []string{"09", "10", "11", "12"}

func grades(sets ...[]string) []string {
	var out []string
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

var topics = []topic{
	{name: "fractions on a number line", subject: "math", grades: g35, goal: "place and compare fractions on a number line",
		detail: "Students fold paper strips into equal parts, label each mark as a unit fraction and locate fractions greater than one",
		moves: []string{"Students partition a number line into equal parts before labeling", "Teacher asks which fraction is closer to one whole and why",
			"Students justify comparisons with benchmark fractions"}, assessment: "Fractions common assessment",
		std: []string{"CCSS.MATH.CONTENT.%s.NF.A.1", "CCSS.MATH.CONTENT.%s.NF.A.2", "!CCSS.MATH.PRACTICE.MP4"}},
	{name: "equivalent fractions", subject: "math", grades: g35, goal: "recognize and generate equivalent fractions",
		detail:     "Students model equivalent fractions with area models and fraction strips before using multiplication",
		moves:      []string{"Students build equivalent fractions with fraction strips", "Teacher connects area models to the multiplication rule"},
		assessment: "Fractions unit test", std: []string{"CCSS.MATH.CONTENT.%s.NF.A.1", "!CCSS.MATH.PRACTICE.MP7"}},
	{name: "multiplication fact fluency", subject: "math", grades: g35, goal: "build fluency with multiplication facts",
		detail:     "Short daily games use strategy-based fact families rather than timed drills",
		moves:      []string{"Students practice derived fact strategies such as doubling", "Teacher tracks fact strategies on a class chart"},
		assessment: "Fact fluency probe", std: []string{"CCSS.MATH.CONTENT.%s.OA.C.7"}},
	{name: "place value", subject: "math", grades: grades(k2, g35), goal: "understand place value and regroup with confidence",
		detail:     "Students bundle straws into tens and hundreds and record the quantities in a place value chart",
		moves:      []string{"Students represent numbers with base-ten blocks", "Teacher asks students to explain regrouping aloud"},
		assessment: "Place value interview", std: []string{"CCSS.MATH.CONTENT.%s.NBT.A.1"}},
	{name: "ratio reasoning", subject: "math", grades: g68, goal: "reason about ratios and rates with tables and tape diagrams",
		detail:     "Students solve recipe and speed problems with double number lines before writing equations",
		moves:      []string{"Students draw tape diagrams for ratio problems", "Teacher selects and sequences student strategies for the discussion"},
		assessment: "Ratios performance task", std: []string{"CCSS.MATH.CONTENT.%s.RP.A.3", "!CCSS.MATH.PRACTICE.MP2"}},
	{name: "linear equations", subject: "math", grades: grades(g68, hs), goal: "solve linear equations and explain each step",
		detail:     "Students balance equations with hanger diagrams and then move to symbolic solving",
		moves:      []string{"Students use hanger diagrams to reason about equality", "Teacher uses worked examples with common errors"},
		assessment: "Equations quiz", std: []string{"!CCSS.MATH.CONTENT.8.EE.C.7", "!CCSS.MATH.CONTENT.HSA.REI.B.3"}},
	{name: "math word problems", subject: "math", grades: grades(k2, g35, g68), goal: "make sense of word problems and persevere",
		detail:     "A three-reads protocol slows students down: the story, the quantities, then the question",
		moves:      []string{"Students read the problem three times with a different purpose each time", "Teacher withholds the question until the second read"},
		assessment: "Problem solving rubric", std: []string{"!CCSS.MATH.PRACTICE.MP1", "CCSS.MATH.CONTENT.%s.OA.A.1"}},
	{name: "close reading of informational text", subject: "ela", grades: grades(g35, g68, hs), goal: "cite text evidence when answering questions",
		detail:     "Students annotate a short informational passage in three passes and discuss text-dependent questions",
		moves:      []string{"Students annotate the text for key ideas and evidence", "Teacher asks text-dependent questions that require rereading"},
		assessment: "Reading comprehension benchmark", std: []string{"CCSS.ELA-LITERACY.RI.%s.1", "CCSS.ELA-LITERACY.RI.%s.2"}},
	{name: "phonics and decoding", subject: "ela", grades: k2, goal: "decode words with short vowels and blends",
		detail:     "Explicit, systematic phonics lessons with word building and decodable texts",
		moves:      []string{"Students build words with letter tiles", "Teacher models blending sounds and gives immediate feedback"},
		assessment: "Phonics screener", std: []string{"CCSS.ELA-LITERACY.RF.%s.3"}},
	{name: "vocabulary instruction", subject: "ela", grades: grades(g35, g68), goal: "learn and use academic vocabulary",
		detail:     "Students meet each target word in context, act it out, and use it in writing during the week",
		moves:      []string{"Students use new vocabulary words in sentence frames", "Teacher revisits words across the week"},
		assessment: "Vocabulary assessment", std: []string{"CCSS.ELA-LITERACY.L.%s.6", "CCSS.ELA-LITERACY.L.%s.4"}},
	{name: "argument writing", subject: "ela", grades: grades(g68, hs), goal: "write arguments supported by claims and evidence",
		detail:     "Students analyze mentor texts and plan claims, evidence and reasoning before drafting",
		moves:      []string{"Students outline claim, evidence and reasoning before drafting", "Teacher confers with writers using a feedback checklist"},
		assessment: "Argument writing rubric", std: []string{"CCSS.ELA-LITERACY.W.%s.1"}},
	{name: "reading fluency", subject: "ela", grades: grades(k2, g35), goal: "read grade-level text accurately and with expression",
		detail:     "Repeated reading with partners and a short performance each Friday",
		moves:      []string{"Students reread a passage with a partner three times", "Teacher times one-minute reads and charts progress"},
		assessment: "Oral reading fluency", std: []string{"CCSS.ELA-LITERACY.RF.%s.4"}},
	{name: "ecosystems and food webs", subject: "science", grades: grades(g35, g68), goal: "explain how matter and energy move through an ecosystem",
		detail:     "Students build food web models of a local pond and predict what happens when one population changes",
		moves:      []string{"Students revise models as they gather evidence", "Teacher launches with an anchoring phenomenon"},
		assessment: "Ecosystems performance task", std: []string{"!5-LS2-1", "!MS-LS2-3"}},
	{name: "energy transfer", subject: "science", grades: grades(g35, g68), goal: "describe how energy is transferred by collisions, light, heat and current",
		detail:     "Students design a device that converts energy from one form to another and test it",
		moves:      []string{"Students plan and carry out investigations in small groups", "Teacher asks students to argue from evidence"},
		assessment: "Energy unit assessment", std: []string{"!4-PS3-2", "!4-PS3-4", "!MS-PS3-5"}},
	{name: "cells and body systems", subject: "science", grades: g68, goal: "explain how cells and body systems interact",
		detail:     "Students investigate how body systems respond to exercise and use models to explain the results",
		moves:      []string{"Students collect and graph data from a heart rate investigation", "Teacher uses claim-evidence-reasoning prompts"},
		assessment: "Life science assessment", std: []string{"!MS-LS1-3", "!MS-LS1-6"}},
	{name: "chemical reactions", subject: "science", grades: hs, goal: "use evidence to explain chemical reactions",
		detail:     "Lab stations let students observe reactions, then model the rearrangement of atoms",
		moves:      []string{"Students model reactions with molecular kits", "Teacher holds a consensus discussion after each lab"},
		assessment: "Chemistry common assessment", std: []string{"!HS-PS1-2", "!HS-PS1-7"}},
	{name: "weather and climate", subject: "science", grades: grades(k2, g35), goal: "describe patterns of weather over time",
		detail:     "Students keep a daily weather journal and look for seasonal patterns",
		moves:      []string{"Students record daily weather observations", "Teacher guides students to find patterns in the data"},
		assessment: "Weather journal rubric", std: []string{"!K-ESS2-1", "!3-ESS2-1"}},
	{name: "morning meeting", subject: "sel", grades: grades(k2, g35), goal: "build a sense of belonging and social-emotional skills",
		detail:     "A daily social-emotional routine: greeting, sharing, a group activity and a morning message",
		moves:      []string{"Every student is greeted by name", "Students practice a social-emotional skill in the group activity"},
		assessment: "Belonging survey", std: []string{"!CASEL.RELATIONSHIP-SKILLS", "!CASEL.SOCIAL-AWARENESS"}},
	{name: "restorative circles", subject: "sel", grades: grades(g68, hs), goal: "repair harm and strengthen relationships",
		detail:     "Weekly community circles with a talking piece and follow-up restorative conversations",
		moves:      []string{"Students use a talking piece and respond to a prompt", "Teacher follows up on conflicts with restorative questions"},
		assessment: "Climate survey", std: []string{"!CASEL.RELATIONSHIP-SKILLS", "!CASEL.RESPONSIBLE-DECISION-MAKING"}},
	{name: "self-regulation strategies", subject: "sel", grades: grades(k2, g35, g68), goal: "name emotions and choose calming strategies",
		detail:     "A calm corner, an emotions check-in and explicit teaching of breathing strategies",
		moves:      []string{"Students check in with an emotions chart", "Teacher models a breathing strategy before transitions"},
		assessment: "Self-regulation rating scale", std: []string{"!CASEL.SELF-MANAGEMENT", "!CASEL.SELF-AWARENESS"}},
	{name: "primary source analysis", subject: "social_studies", grades: grades(g35, g68, hs), goal: "source and corroborate historical documents",
		detail:     "Students source, contextualize and corroborate two documents about the same event",
		moves:      []string{"Students ask who wrote the document and why", "Teacher models corroborating two sources"},
		assessment: "Document-based question", std: []string{"!CCSS.ELA-LITERACY.RH.6-8.1", "!CCSS.ELA-LITERACY.RH.9-10.2"}},
	{name: "conversational Spanish", subject: "world_languages", grades: grades(g68, hs), goal: "speak with confidence in the target language",
		detail:     "Students use structured partner conversations with sentence starters in the target language",
		moves:      []string{"Students hold timed partner conversations", "Teacher circulates and recasts errors"},
		assessment: "Speaking proficiency rubric", std: []string{"!ACTFL.INTERPERSONAL"}},
	{name: "visual arts critique", subject: "arts", grades: grades(g35, g68, hs), goal: "give and use feedback on their artwork",
		detail:     "Gallery walks with a critique protocol: notice, wonder, suggest",
		moves:      []string{"Students give feedback using notice, wonder and suggest", "Teacher models specific, kind feedback"},
		assessment: "Art critique rubric", std: []string{"!NCAS.VA.RE.9"}},
	{name: "fitness goal setting", subject: "pe_health", grades: grades(g35, g68, hs), goal: "set and track personal fitness goals",
		detail:     "Students set weekly fitness goals and track them in a log with heart rate data",
		moves:      []string{"Students set a measurable fitness goal", "Teacher reviews logs and adjusts goals with students"},
		assessment: "Fitness log", std: []string{"!SHAPE.S3.E1"}},
	{name: "workplace skills projects", subject: "cte", grades: hs, goal: "apply workplace skills in authentic projects",
		detail:     "Industry partners review student projects against a professional skills rubric",
		moves:      []string{"Students present projects to industry partners", "Teacher uses a professional skills rubric"},
		assessment: "Employability skills rubric", std: []string{"!CTE.CC.1"}},
}

type strategy struct {
	title   string // %s is the topic
	summary string
	desc    string
	moves   []string
}

var strategies = []strategy{
	{title: "Number talks for %s", summary: "Short daily number talks help",
		desc:  "A ten-minute talk at the start of class about %s, where students share strategies and the teacher records them.",
		moves: []string{"Teacher records every strategy on the board", "Students signal agreement with hand signals", "Students explain a classmate's strategy about %s"}},
	{title: "Think-pair-share routines for %s", summary: "Structured partner talk helps",
		desc:  "Students think alone, talk with a partner, then share with the class about %s.",
		moves: []string{"Students get silent think time before talking", "Partners use sentence stems to respond", "Teacher cold-calls pairs to share about %s"}},
	{title: "Worked examples for %s", summary: "Studying worked examples before practice helps",
		desc:  "Students study a worked example of %s, explain each step, then solve a similar problem.",
		moves: []string{"Students explain each step of the worked example", "Teacher fades steps from the examples over time", "Students compare a correct and an incorrect example of %s"}},
	{title: "Exit tickets and reteach groups for %s", summary: "Daily exit tickets with next-day reteaching help",
		desc:  "A two-question exit ticket on %s each day decides who joins a small reteach group the next morning.",
		moves: []string{"Students answer a two-question exit ticket", "Teacher sorts tickets into reteach groups", "Small groups revisit %s the next day"}},
	{title: "Retrieval practice for %s", summary: "Low-stakes retrieval quizzes help",
		desc:  "Brief, low-stakes quizzes on %s at spaced intervals, with immediate feedback and no grades.",
		moves: []string{"Students answer retrieval questions from memory", "Teacher spaces practice across weeks", "Students check answers and correct errors on %s"}},
	{title: "Cooperative learning stations for %s", summary: "Rotating cooperative stations help",
		desc:  "Students rotate through three stations on %s: teacher table, partner practice and independent work.",
		moves: []string{"Students rotate through stations on a timer", "Teacher meets a small group at every rotation", "Partners coach each other on %s"}},
	{title: "Visual models and manipulatives for %s", summary: "Concrete and visual models help",
		desc:  "Students work with manipulatives and drawings of %s before moving to abstract notation.",
		moves: []string{"Students use manipulatives before symbols", "Teacher connects each visual model to the notation", "Students draw their own models of %s"}},
	{title: "Goal setting and feedback conferences for %s", summary: "Student goal setting with weekly conferences helps",
		desc:  "Each student sets a goal about %s and meets the teacher weekly to review progress and next steps.",
		moves: []string{"Students set a specific weekly goal", "Teacher gives feedback tied to the goal", "Students track progress on %s in a log"}},
}

// teamsBySubject names PLCs that would own a practice of each subject: no "Literacy PLC" owns a
// math practice.
var teamsBySubject = map[string][]string{
	"math":    {"Math", "Grade-level math", "Math intervention", "Vertical math"},
	"ela":     {"Literacy", "Grade-level reading", "Reading intervention", "ELA department"},
	"science": {"Science", "Grade-level science", "Science department", "STEM"},
	"sel":     {"SEL", "Student support", "Advisory", "Equity and belonging"},
}

func teamsFor(subject string) []string {
	if t, ok := teamsBySubject[subject]; ok {
		return t
	}
	return []string{"Grade-level"}
}

var contexts = []string{
	"Tried in classrooms with many English learners.",
	"Works in classrooms that include students with disabilities.",
	"Designed for a Title I school with a 45-minute block.",
	"Used in co-taught inclusion classrooms.",
	"Adapted for a rural school with multi-grade classes.",
	"Fits a PLC that meets weekly with common planning time.",
}

var closing = []string{
	"Our PLC found the routine easy to sustain once students knew the steps.",
	"The key is consistency: the same structure every day for at least six weeks.",
	"Teachers reported that struggling students participated more than before.",
	"We recommend starting with a short demonstration lesson from a coach.",
}

var learnings = []string{
	"Students needed two weeks to learn the routine before gains appeared.",
	"Fidelity dropped during testing weeks; we plan for that next time.",
	"The practice worked best when paired with small-group reteaching.",
	"Gains were largest for students who started below the proficiency cut.",
}
