//! Believable people and what they ask a shop's support, for seeds and the demo.
//! Some names are non-ASCII on purpose: they exercise Facebook's `\uXXXX` escaping.

use rand::Rng;
use rand::seq::IndexedRandom;

const FIRST_NAMES: &[&str] = &[
    "Anna", "Jörg", "Åsa", "Liam", "Sofía", "Mateo", "Chloé", "Noah", "Zoë", "Björn", "Emma",
    "Luca", "Aiko", "Oliver", "Marta", "Søren", "Amélie", "Hugo", "Ingrid", "Kofi", "Leilani",
    "Ravi", "Nadia", "Tomás", "Greta", "Yusuf", "Elif", "Mikael", "Paula", "Jonas",
];

const LAST_NAMES: &[&str] = &[
    "Müller",
    "Lindqvist",
    "García",
    "Okafor",
    "Nguyen",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Jensen",
    "Svensson",
    "Hernández",
    "Novák",
    "Tanaka",
    "O'Brien",
    "Schmidt",
    "Petrović",
    "Larsen",
    "Martin",
    "Yılmaz",
    "Costa",
    "Fischer",
    "Andersson",
    "Moreau",
    "Silva",
    "Berg",
];

const QUESTIONS: &[&str] = &[
    "Hi! Where is my order? It was supposed to arrive yesterday.",
    "Hello, can I change the delivery address for order #4821?",
    "Do you ship to Norway? And how long does it take?",
    "My parcel arrived damaged 😞 the box was crushed. What can I do?",
    "Is the Trail 40 backpack waterproof or just water resistant?",
    "Hej! Kan jag returnera en jacka jag köpte för tre veckor sedan?",
    "I was charged twice for the same order, can you check please?",
    "Do you have the merino hoodie in size M again? It says sold out.",
    "What are your opening hours on Saturday?",
    "Grüß Gott! Gibt es die Wanderschuhe auch in Größe 44?",
    "Can I get an invoice with my company name on it?",
    "The zipper on my jacket broke after two weeks. Is that covered by warranty?",
    "How do I use my discount code? It says invalid at checkout.",
    "Hola, ¿tienen envío gratis a partir de cierto importe?",
    "I'd like to cancel my order, I ordered the wrong colour.",
];

const FOLLOW_UPS: &[&str] = &[
    "Thanks, that helps!",
    "OK, and how long will that take?",
    "Great, thank you so much 🙏",
    "Hmm, I already tried that. Anything else?",
    "Perfect. Have a nice day!",
    "Can you send me the link?",
    "The order number is 4821.",
    "Danke schön!",
    "Tack så mycket! 😊",
    "Sorry, one more question: do you also sell gift cards?",
];

const REPLIES: &[&str] = &[
    "Hi, thanks for reaching out! Let me check that for you.",
    "Sorry about that! Could you send me your order number?",
    "Yes, we ship there. Delivery takes 3 to 5 working days.",
    "I've updated the address on your order.",
    "That is covered by our warranty, we'll send a replacement.",
    "You're welcome! Anything else I can help with?",
];

/// A reply a support agent might have sent, for seeded history.
pub fn reply() -> String {
    REPLIES
        .choose(&mut rand::rng())
        .copied()
        .unwrap_or("Thanks!")
        .to_owned()
}

/// A random first and last name.
pub fn person() -> (String, String) {
    let mut rng = rand::rng();
    let first = FIRST_NAMES.choose(&mut rng).copied().unwrap_or("Anna");
    let last = LAST_NAMES.choose(&mut rng).copied().unwrap_or("Müller");
    (first.to_owned(), last.to_owned())
}

/// A first support question.
pub fn question() -> String {
    QUESTIONS
        .choose(&mut rand::rng())
        .copied()
        .unwrap_or("Hello?")
        .to_owned()
}

/// An answer to the Page's reply.
pub fn follow_up() -> String {
    FOLLOW_UPS
        .choose(&mut rand::rng())
        .copied()
        .unwrap_or("Thanks!")
        .to_owned()
}

/// A profile picture URL. Served by the simulator itself when its address is known, so
/// that pictures load in the demo and the browser tests, which have no internet;
/// otherwise of the shape Graph returns (which expires there and never loads here).
pub fn profile_pic(served_from: Option<std::net::SocketAddr>, psid: &str) -> String {
    if let Some(addr) = served_from {
        return format!("http://{addr}/_sim/pictures/{psid}.svg");
    }
    let n: u32 = rand::rng().random_range(100_000..999_999);
    format!(
        "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={psid}&height=50&width=50&ext={n}&hash=Ab"
    )
}
