//! A Page's labels, as the inbox holds them: read with the Page's agents when the live
//! feed (re)connects and again at each LABEL_CHANGED or LABEL_DELETED. A conversation's chips show each label as the
//! Page's list has it now, so a rename or a deletion shows on every conversation at once.
use super::Conversation;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub id: String,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
}

/// The selected Page's labels, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageLabels {
    /// Whether the list came from the server (until then, a conversation's own copies
    /// of its labels are shown).
    pub loaded: bool,
    pub items: Vec<Label>,
}

impl PageLabels {
    /// The list as the server answered it (by name).
    pub fn set(&mut self, items: Vec<Label>) {
        self.loaded = true;
        self.items = items;
    }

    /// These labels, as the Page has them (for a conversation's new set).
    pub fn pick(&self, ids: &[String]) -> Vec<Label> {
        self.items
            .iter()
            .filter(|l| ids.contains(&l.id))
            .cloned()
            .collect()
    }

    /// The chips of `c`: its labels as the Page has them now; a deleted one is gone.
    pub fn of(&self, c: &Conversation) -> Vec<Label> {
        if !self.loaded {
            return c.labels.clone();
        }
        self.items
            .iter()
            .filter(|l| c.labels.iter().any(|x| x.id == l.id))
            .cloned()
            .collect()
    }

    /// The ids `c` carries with `id` put on (`on`) or taken off.
    pub fn toggled(&self, c: &Conversation, id: &str, on: bool) -> Vec<String> {
        let mut ids: Vec<String> = self.of(c).into_iter().map(|l| l.id).collect();
        ids.retain(|x| x != id);
        if on {
            ids.push(id.to_owned());
        }
        ids
    }
}
