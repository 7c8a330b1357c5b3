//! Where the office's handling of an inquiry stands: 未対応 → 対応中 → 完了 (any step may be taken back).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatus {
    /// 未対応: nobody has taken it up yet.
    #[default]
    Open,
    /// 対応中.
    InProgress,
    /// 完了.
    Done,
}

impl InquiryStatus {
    pub const ALL: [InquiryStatus; 3] = [
        InquiryStatus::Open,
        InquiryStatus::InProgress,
        InquiryStatus::Done,
    ];

    pub fn label(self) -> &'static str {
        match self {
            InquiryStatus::Open => "未対応",
            InquiryStatus::InProgress => "対応中",
            InquiryStatus::Done => "完了",
        }
    }

    /// The value in forms and URLs.
    pub fn key(self) -> &'static str {
        match self {
            InquiryStatus::Open => "open",
            InquiryStatus::InProgress => "in_progress",
            InquiryStatus::Done => "done",
        }
    }

    pub fn from_key(key: &str) -> Option<InquiryStatus> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_key() {
        for s in InquiryStatus::ALL {
            assert_eq!(InquiryStatus::from_key(s.key()), Some(s));
        }
        assert_eq!(InquiryStatus::from_key("closed"), None);
    }
}
