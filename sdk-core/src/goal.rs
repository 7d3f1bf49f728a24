//! Smart goal heuristics: does a clicked or submitted element look like a conversion?
//!
//! [`score_element`] reads an [`ElementDescription`] and returns the most likely
//! [`GoalCategory`] with a confidence in `0..1`, or `None` when nothing points at a
//! conversion. Elements scoring at least [`CANDIDATE_THRESHOLD`] become goal candidates that a
//! person confirms; the heuristics only propose.
//!
//! # Rules
//! Text is normalised first: lowercased (ASCII and Latin-1 letters), accents folded (`é` to
//! `e`, `ñ` to `n`), and every run of other characters turned into one space, so phrases
//! match on word boundaries (`subscribe` does not match inside `unsubscribe`).
//!
//! Evidence and its strength:
//! - a phrase of the category in the visible text or `aria-label`: 0.7 to 0.95 by phrase;
//! - a path or file hint in `href` (`/signup`, `/checkout`, `.pdf`, `mailto:`): 0.6;
//! - a hint in the `id` or `name` attribute (`signup-button`): 0.45;
//! - form fields: two passwords (sign up, 0.8), email + password + another field (sign up,
//!   0.5), card fields (purchase, 0.8), an email with a message box (contact, 0.75), a lone
//!   email in a form of at most two fields (subscribe, 0.65).
//!
//! Evidence for one category combines as a noisy-or, `1 - Π(1 - s)`, and the strongest
//! category wins (ties go to the earlier category in [`GoalCategory::ALL`]). The result is then
//! scaled by what the element is: a button, a submit input or a form keeps it all, a link 0.9,
//! an element with `role="button"` or `role="link"` 0.9, anything else 0.7; a text over 60
//! characters (a paragraph, not a call to action) 0.7.
//!
//! Negative cues: a *veto* phrase (cancel, close, log out, cookie banners, unsubscribe, in the
//! four languages) means no candidate at all; a *damping* cue multiplies by 0.4: sign-in
//! words (a sign-in is not a conversion), "learn more", or a navigation role (`menuitem`,
//! `tab`, `navigation`).
//!
//! Phrases cover English plus common Spanish, French and German wording for each category.

use alloc::string::String;

use crate::event::ElementDescription;

/// Confidence from which a scored element becomes a goal candidate.
pub const CANDIDATE_THRESHOLD: f32 = 0.6;

/// Kinds of conversion the heuristics recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GoalCategory {
    /// Creating an account.
    SignUp,
    /// Paying for something.
    Purchase,
    /// Going to, or through, checkout.
    Checkout,
    /// Adding an item to a cart.
    AddToCart,
    /// Subscribing to a newsletter or updates.
    Subscribe,
    /// Starting a free trial.
    StartTrial,
    /// Booking or requesting a demo.
    BookDemo,
    /// Contacting the business.
    Contact,
    /// Downloading a file or an app.
    Download,
}

impl GoalCategory {
    /// Every category, in tie-breaking order (more specific intents first is not needed:
    /// phrase strengths already encode specificity).
    pub const ALL: [GoalCategory; 9] = [
        Self::SignUp,
        Self::Purchase,
        Self::Checkout,
        Self::AddToCart,
        Self::Subscribe,
        Self::StartTrial,
        Self::BookDemo,
        Self::Contact,
        Self::Download,
    ];

    /// The snake_case name used on the wire and in the dashboard, e.g. `add_to_cart`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::Purchase => "purchase",
            Self::Checkout => "checkout",
            Self::AddToCart => "add_to_cart",
            Self::Subscribe => "subscribe",
            Self::StartTrial => "start_trial",
            Self::BookDemo => "book_demo",
            Self::Contact => "contact",
            Self::Download => "download",
        }
    }

    /// The category with this snake_case name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|category| category.as_str() == name)
    }

    /// The position in [`GoalCategory::ALL`] (declaration order).
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// A scored element: the likeliest conversion it stands for, and how sure the rules are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoalCandidate {
    /// The kind of conversion.
    pub category: GoalCategory,
    /// Confidence in `0..1`; compare with [`CANDIDATE_THRESHOLD`].
    pub confidence: f32,
}

impl GoalCandidate {
    /// Whether the confidence reaches [`CANDIDATE_THRESHOLD`].
    pub fn is_candidate(&self) -> bool {
        self.confidence >= CANDIDATE_THRESHOLD
    }
}

use GoalCategory::*;

// Each table packs its phrases into one `&str` separated by `|`, scanned in place by
// [`contains_any`]: a `&[&str]` would cost eight bytes of pointer and length per phrase in the
// WebAssembly data (about 2 KB here), bytes that gzip cannot squeeze. `concat!` keeps the lines
// under 100 characters.

/// Phrases of the visible text, normalised (see the module doc), with their strength.
#[rustfmt::skip]
const TEXT_PHRASES: &[(GoalCategory, f32, &str)] = &[
    (
        SignUp,
        0.9,
        concat!(
            "sign up|signup|register|create account|create an account|create your account|",
            "create my account|join now|join for free|join free|registrate|registrarse|",
            "registrese|crear cuenta|crea tu cuenta|inscribete|s inscrire|inscrivez vous|",
            "creer un compte|creer mon compte|registrieren|jetzt registrieren|konto erstellen|",
            "konto anlegen",
        ),
    ),
    (SignUp, 0.7, "get started|join|empezar|commencer|loslegen|inscription"),
    (
        Purchase,
        0.9,
        concat!(
            "buy|buy now|purchase|complete purchase|order now|place order|place my order|pay now|",
            "pay|comprar|comprar ahora|pagar ahora|acheter|acheter maintenant|commander|payer|",
            "kaufen|jetzt kaufen|bestellen|jetzt bestellen|zahlungspflichtig bestellen|bezahlen",
        ),
    ),
    (Purchase, 0.7, "get it now|upgrade|upgrade now|go pro"),
    (
        Checkout,
        0.9,
        concat!(
            "checkout|check out|proceed to checkout|go to checkout|continue to checkout|",
            "finalizar compra|tramitar pedido|ir a pagar|ir al pago|passer la commande|",
            "passer commande|valider mon panier|paiement|zur kasse|kasse|weiter zur kasse",
        ),
    ),
    (
        AddToCart,
        0.95,
        concat!(
            "add to cart|add to bag|add to basket|anadir al carrito|agregar al carrito|",
            "anadir a la cesta|ajouter au panier|in den warenkorb|zum warenkorb hinzufugen|",
            "in den einkaufswagen",
        ),
    ),
    (
        Subscribe,
        0.92,
        concat!(
            "subscribe|subscribe now|newsletter|join the newsletter|get updates|notify me|",
            "join the waitlist|join waitlist|suscribirse|suscribete|suscribirme|s abonner|",
            "abonnez vous|abonnieren|jetzt abonnieren",
        ),
    ),
    (
        StartTrial,
        0.95,
        concat!(
            "start free trial|start your free trial|free trial|start trial|start my trial|",
            "try free|try it free|try for free|try free for|prueba gratis|prueba gratuita|",
            "empieza gratis|essai gratuit|essayer gratuitement|commencer l essai|",
            "kostenlos testen|gratis testen|testversion|jetzt testen",
        ),
    ),
    (
        BookDemo,
        0.95,
        concat!(
            "book a demo|request a demo|schedule a demo|get a demo|book demo|request demo|",
            "see a demo|book a call|schedule a call|solicitar demo|solicita una demo|",
            "reservar demo|reservar una demo|demander une demo|reserver une demo|demo anfragen|",
            "demo buchen|demo vereinbaren",
        ),
    ),
    (
        Contact,
        0.85,
        concat!(
            "contact us|contact sales|talk to sales|get in touch|send message|send a message|",
            "contactanos|contacta con nosotros|enviar mensaje|contactez nous|nous contacter|",
            "envoyer le message|kontaktieren sie uns|kontakt aufnehmen|nachricht senden",
        ),
    ),
    (Contact, 0.7, "contact|contacto|kontakt"),
    (
        Download,
        0.9,
        concat!(
            "download|download now|download free|get the app|install|install now|descargar|",
            "descargar ahora|telecharger|herunterladen|jetzt herunterladen",
        ),
    ),
];

/// Words in an `href` path, `id` or `name`, matched as whole words after normalisation (so
/// `sign-up`, `sign_up` and `/sign/up` all read `sign up`).
#[rustfmt::skip]
const ATTRIBUTE_HINTS: &[(GoalCategory, &str)] = &[
    (SignUp, "signup|sign up|register|registration|create account|join"),
    (Purchase, "buy|purchase|order|pay|payment"),
    (Checkout, "checkout|check out"),
    (AddToCart, "add to cart|addtocart|add to bag|cart add"),
    (Subscribe, "subscribe|newsletter|waitlist"),
    (StartTrial, "trial|free trial|start trial"),
    (BookDemo, "demo|book demo|request demo"),
    (Contact, "contact|contact us"),
    (Download, "download|downloads"),
];

/// File endings in an `href` that mean a download.
#[rustfmt::skip]
const DOWNLOAD_EXTENSIONS: &str = ".pdf|.zip|.dmg|.exe|.msi|.pkg|.apk|.deb|.rpm|.tar.gz|.csv";

/// Phrases that rule an element out.
#[rustfmt::skip]
const VETO_PHRASES: &str = concat!(
    "cancel|close|dismiss|no thanks|not now|maybe later|log out|logout|sign out|signout|",
    "unsubscribe|accept cookies|accept all|reject all|cookie|cookies|cookie settings|cancelar|",
    "cerrar|cerrar sesion|aceptar cookies|aceptar todo|annuler|fermer|se deconnecter|deconnexion|",
    "tout accepter|tout refuser|abbrechen|schliessen|abmelden|ausloggen|alle akzeptieren|",
    "alle ablehnen",
);

/// Phrases and roles that make a conversion unlikely without ruling it out.
#[rustfmt::skip]
const DAMPING_PHRASES: &str = concat!(
    "log in|login|sign in|signin|learn more|read more|more info|back|iniciar sesion|entrar|",
    "se connecter|connexion|en savoir plus|anmelden|einloggen|mehr erfahren",
);
const DAMPING_ROLES: &str = "menuitem|tab|navigation|option|checkbox|switch";

const DAMPING_FACTOR: f32 = 0.4;
const LONG_TEXT_CHARS: usize = 60;
const LONG_TEXT_FACTOR: f32 = 0.7;
const HREF_STRENGTH: f32 = 0.6;
const ATTRIBUTE_STRENGTH: f32 = 0.45;

/// Scores an element for conversion intent (see the module doc for the rules).
///
/// Returns `None` when no rule matches or a veto applies; otherwise the likeliest category,
/// which may still fall below [`CANDIDATE_THRESHOLD`].
pub fn score_element(element: &ElementDescription) -> Option<GoalCandidate> {
    let text = element.text.as_deref().map(normalise).unwrap_or_default();
    let label = element.aria_label.as_deref().map(normalise).unwrap_or_default();
    let role = element.role.as_deref().map(normalise).unwrap_or_default();
    let tag = normalise(&element.tag);
    let element_type = element.element_type.as_deref().map(normalise).unwrap_or_default();

    if [&text, &label].iter().any(|words| contains_any(words, VETO_PHRASES)) {
        return None;
    }

    // Noisy-or per category: `miss[c]` is the probability that every piece of evidence for c
    // is wrong.
    let mut miss = [1.0_f32; GoalCategory::ALL.len()];
    let mut add = |category: GoalCategory, strength: f32| miss[category.index()] *= 1.0 - strength;

    for (category, strength, packed) in TEXT_PHRASES {
        if contains_any(&text, packed) || contains_any(&label, packed) {
            add(*category, *strength);
        }
    }
    if let Some(href) = element.href.as_deref() {
        score_href(href, &mut add);
    }
    for attribute in [element.id.as_deref(), element.name.as_deref()].into_iter().flatten() {
        let words = normalise(attribute);
        for (category, hints) in ATTRIBUTE_HINTS {
            if contains_any(&words, hints) {
                add(*category, ATTRIBUTE_STRENGTH);
            }
        }
    }
    score_fields(element, &mut add);

    // Strictly smaller wins, so ties keep the earlier category.
    let mut best = (SignUp, 1.0_f32);
    for (category, category_miss) in GoalCategory::ALL.into_iter().zip(miss) {
        if category_miss < best.1 {
            best = (category, category_miss);
        }
    }
    let (best, best_miss) = best;
    if best_miss >= 1.0 {
        return None;
    }

    let mut confidence = 1.0 - best_miss;
    confidence *= element_factor(&tag, &element_type, &role);
    if contains_any(&text, DAMPING_PHRASES)
        || contains_any(&label, DAMPING_PHRASES)
        || phrases(DAMPING_ROLES).any(|damping| role.trim().as_bytes() == damping)
    {
        confidence *= DAMPING_FACTOR;
    }
    if element.text.as_deref().is_some_and(|text| char_count(text) > LONG_TEXT_CHARS) {
        confidence *= LONG_TEXT_FACTOR;
    }
    Some(GoalCandidate { category: best, confidence: confidence.min(0.99) })
}

fn score_href(href: &str, add: &mut impl FnMut(GoalCategory, f32)) {
    let lower = normalise_case(href);
    if lower.starts_with("mailto:") || lower.starts_with("tel:") {
        add(Contact, HREF_STRENGTH);
        return;
    }
    // Only the path counts: a query string or fragment names tracking noise, not intent.
    // A byte scan rather than `split(['?', '#'])`, whose char-set searcher decodes UTF-8.
    let path = match lower.bytes().position(|byte| byte == b'?' || byte == b'#') {
        Some(end) => lower.get(..end).unwrap_or_default(),
        None => &lower,
    };
    if phrases(DOWNLOAD_EXTENSIONS).any(|extension| path.as_bytes().ends_with(extension)) {
        add(Download, HREF_STRENGTH);
    }
    let words = normalise(path);
    for (category, hints) in ATTRIBUTE_HINTS {
        if contains_any(&words, hints) {
            add(*category, HREF_STRENGTH);
        }
    }
}

fn score_fields(element: &ElementDescription, add: &mut impl FnMut(GoalCategory, f32)) {
    if element.fields.is_empty() {
        return;
    }
    let (mut passwords, mut emails, mut cards, mut messages) = (0, 0, 0, 0);
    for field in &element.fields {
        let field_type = field.field_type.as_deref().map(normalise).unwrap_or_default();
        let name = field.name.as_deref().map(normalise).unwrap_or_default();
        let is = |words: &str| contains_any(&field_type, words) || contains_any(&name, words);
        if is("password") {
            passwords += 1;
        } else if is("email|mail") {
            emails += 1;
        } else if is("card|cardnumber|cc number|cc|cvc|cvv|expiry|iban") {
            cards += 1;
        } else if is("textarea|message") {
            messages += 1;
        }
    }
    let total = element.fields.len();
    if passwords >= 2 {
        add(SignUp, 0.8);
    } else if passwords == 1 && emails >= 1 && total >= 3 {
        // Email, password and something else (a name): more often sign-up than sign-in.
        add(SignUp, 0.5);
    }
    if cards > 0 {
        add(Purchase, 0.8);
    }
    if emails >= 1 && messages >= 1 {
        add(Contact, 0.75);
    } else if emails == 1 && passwords == 0 && total <= 2 {
        add(Subscribe, 0.65);
    }
}

fn element_factor(tag: &str, element_type: &str, role: &str) -> f32 {
    let (tag, element_type, role) = (tag.trim(), element_type.trim(), role.trim());
    match tag {
        "button" | "form" => 1.0,
        "input" if matches!(element_type, "submit" | "button" | "image") => 1.0,
        "a" => 0.9,
        _ if matches!(role, "button" | "link") => 0.9,
        _ => 0.7,
    }
}

/// Lowercase, accent-folded words separated by single spaces, with a space at both ends so
/// that `contains(" phrase ")` matches whole words.
fn normalise(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push(' ');
    for c in raw.chars() {
        match fold(c) {
            Some('ß') => out.push_str("ss"),
            Some(folded) => out.push(folded),
            None if !out.ends_with(' ') => out.push(' '),
            None => {}
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// Lowercases ASCII and Latin-1 letters and folds their accents; `None` for separators.
///
/// Deliberately table-free: `char::to_lowercase` and `char::is_alphanumeric` bring Unicode
/// tables that would outweigh the rest of this module in the WebAssembly build. Outside
/// Latin-1, the punctuation, arrow and emoji blocks that decorate buttons (`Get started →`,
/// curly quotes, `🚀`) separate words; every other character is kept as part of a word.
fn fold(c: char) -> Option<char> {
    let folded = match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        'a'..='z' | '0'..='9' | 'ß' => c,
        'À'..='Å' | 'à'..='å' => 'a',
        'Ç' | 'ç' => 'c',
        'È'..='Ë' | 'è'..='ë' => 'e',
        'Ì'..='Ï' | 'ì'..='ï' => 'i',
        'Ñ' | 'ñ' => 'n',
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' => 'o',
        'Ù'..='Ü' | 'ù'..='ü' => 'u',
        'Ý' | 'ý' | 'ÿ' => 'y',
        'Æ' | 'æ' => 'æ',
        'Ð' | 'ð' => 'ð',
        'Þ' | 'þ' => 'þ',
        '\u{0}'..='\u{ff}' => return None,
        '\u{2000}'..='\u{2bff}' | '\u{fe00}'..='\u{fe0f}' | '\u{1f000}'..='\u{1faff}' => {
            return None;
        }
        _ => c,
    };
    Some(folded)
}

/// `text.chars().count()`: the bytes that start a character, i.e. that are not UTF-8
/// continuation bytes (`10xxxxxx`). `core`'s own count is a word-at-a-time routine compiled
/// for speed, which cost about 500 bytes of WebAssembly for a text of at most 256 characters.
fn char_count(text: &str) -> usize {
    text.bytes().filter(|byte| byte & 0xc0 != 0x80).count()
}

/// ASCII lowercase of an attribute value, for prefix and suffix checks on `href`.
fn normalise_case(raw: &str) -> String {
    raw.trim().to_ascii_lowercase()
}

/// The phrases of a packed table (see the tables above), as bytes.
fn phrases(packed: &str) -> impl Iterator<Item = &[u8]> {
    packed.as_bytes().split(|byte| *byte == b'|')
}

/// Whether the normalised `words` contain any phrase of the `packed` table as whole words.
fn contains_any(words: &str, packed: &str) -> bool {
    phrases(packed).any(|phrase| has_word(words.as_bytes(), phrase))
}

/// Whether the normalised `words` (space at both ends) contain `phrase` as whole words.
///
/// A byte scan from each word start rather than `str::contains`: the string searcher and its
/// char-boundary panics would add kilobytes to the WebAssembly for inputs this short.
fn has_word(words: &[u8], phrase: &[u8]) -> bool {
    words.iter().enumerate().any(|(space, byte)| {
        *byte == b' '
            && words.get(space + 1..).is_some_and(|rest| {
                rest.starts_with(phrase) && rest.get(phrase.len()) == Some(&b' ')
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FormField;

    fn button(text: &str) -> ElementDescription {
        ElementDescription { tag: "button".into(), text: Some(text.into()), ..Default::default() }
    }

    fn category_of(element: &ElementDescription) -> Option<&'static str> {
        score_element(element).filter(GoalCandidate::is_candidate).map(|c| c.category.as_str())
    }

    #[test]
    fn english_calls_to_action_are_recognised() {
        let cases = [
            ("Sign up", "sign_up"),
            ("Create your account", "sign_up"),
            ("Buy now", "purchase"),
            ("Proceed to checkout", "checkout"),
            ("Add to cart", "add_to_cart"),
            ("Subscribe to our newsletter", "subscribe"),
            ("Start free trial", "start_trial"),
            ("Book a demo", "book_demo"),
            ("Contact sales", "contact"),
            ("Download the PDF", "download"),
        ];
        for (text, expected) in cases {
            assert_eq!(category_of(&button(text)), Some(expected), "{text}");
        }
    }

    #[test]
    fn spanish_french_and_german_basics_are_recognised() {
        let cases = [
            ("Regístrate", "sign_up"),
            ("Comprar ahora", "purchase"),
            ("Suscríbete", "subscribe"),
            ("Añadir al carrito", "add_to_cart"),
            ("S'inscrire", "sign_up"),
            ("Acheter", "purchase"),
            ("S'abonner", "subscribe"),
            ("Essai gratuit", "start_trial"),
            ("Télécharger", "download"),
            ("Jetzt registrieren", "sign_up"),
            ("Jetzt kaufen", "purchase"),
            ("Abonnieren", "subscribe"),
            ("In den Warenkorb", "add_to_cart"),
            ("Zur Kasse", "checkout"),
        ];
        for (text, expected) in cases {
            assert_eq!(category_of(&button(text)), Some(expected), "{text}");
        }
    }

    #[test]
    fn negative_cues_veto_or_damp() {
        for text in ["Cancel", "Log out", "Accept all cookies", "Unsubscribe", "Abbrechen"] {
            assert_eq!(score_element(&button(text)), None, "{text}");
        }
        assert_eq!(category_of(&button("Sign in")), None);
        assert_eq!(category_of(&button("Learn more about our free trial")), None);
        let menu = ElementDescription { role: Some("menuitem".into()), ..button("Sign up") };
        assert_eq!(category_of(&menu), None);
    }

    #[test]
    fn text_that_only_contains_a_keyword_inside_a_word_does_not_match() {
        assert_eq!(score_element(&button("Buyer's guide")), None);
        assert_eq!(score_element(&button("Paypal FAQ")), None);
    }

    #[test]
    fn href_and_attributes_count() {
        let link = ElementDescription {
            tag: "a".into(),
            text: Some("Pricing & plans".into()),
            href: Some("https://example.com/signup?ref=nav".into()),
            ..Default::default()
        };
        let scored = score_element(&link).unwrap();
        assert_eq!(scored.category, SignUp);
        assert!(scored.confidence < CANDIDATE_THRESHOLD, "href alone is a weak hint");

        let icon = ElementDescription {
            tag: "button".into(),
            id: Some("signup-btn".into()),
            href: None,
            aria_label: Some("Create account".into()),
            ..Default::default()
        };
        assert_eq!(category_of(&icon), Some("sign_up"));

        let file = ElementDescription {
            tag: "a".into(),
            text: Some("Whitepaper".into()),
            href: Some("/files/report.PDF".into()),
            ..Default::default()
        };
        assert_eq!(score_element(&file).unwrap().category, Download);
        let mail = ElementDescription { href: Some("mailto:hi@example.com".into()), ..file };
        assert_eq!(score_element(&mail).unwrap().category, Contact);
    }

    fn form(fields: &[(&str, &str)], button_text: Option<&str>) -> ElementDescription {
        ElementDescription {
            tag: "form".into(),
            text: button_text.map(Into::into),
            fields: fields
                .iter()
                .map(|(t, n)| FormField { field_type: Some((*t).into()), name: Some((*n).into()) })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn form_fields_reveal_intent() {
        let sign_up = form(&[("email", "email"), ("password", "pw"), ("password", "pw2")], None);
        assert_eq!(category_of(&sign_up), Some("sign_up"));
        let pay = form(&[("text", "cardnumber"), ("text", "cvc"), ("text", "name")], None);
        assert_eq!(category_of(&pay), Some("purchase"));
        let newsletter = form(&[("email", "email")], None);
        assert_eq!(category_of(&newsletter), Some("subscribe"));
        let contact = form(&[("email", "email"), ("textarea", "message")], None);
        assert_eq!(category_of(&contact), Some("contact"));
        let login = form(&[("email", "email"), ("password", "password")], Some("Log in"));
        assert_eq!(category_of(&login), None);
    }

    #[test]
    fn the_element_kind_and_text_length_scale_confidence() {
        let as_button = score_element(&button("Sign up")).unwrap().confidence;
        let as_div = ElementDescription { tag: "div".into(), ..button("Sign up") };
        let as_div = score_element(&as_div).unwrap().confidence;
        assert!(as_div < as_button);
        let long = button("Sign up today and get access to all of our premium features at once");
        assert!(score_element(&long).unwrap().confidence < as_button);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in
            ["", " ", "🙂🙂", "\u{0}", "ÀÉÎÕÜ", "sign\u{200b}up", "x".repeat(10_000).as_str()]
        {
            let _ = score_element(&button(text));
        }
        assert_eq!(score_element(&ElementDescription::default()), None);
    }

    #[test]
    fn char_count_counts_characters() {
        for text in ["", "a", "é", "Añadir al carrito", "🙂 x", "\u{0}\u{7f}\u{80}\u{7ff}\u{800}"]
        {
            assert_eq!(char_count(text), text.chars().count(), "{text:?}");
        }
    }

    #[test]
    fn category_names_round_trip() {
        for category in GoalCategory::ALL {
            assert_eq!(GoalCategory::parse(category.as_str()), Some(category));
            assert_eq!(GoalCategory::ALL[category.index()], category);
        }
    }
}
