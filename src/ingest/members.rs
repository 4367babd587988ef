//! A Google Group's member list, as `group-membership.csv` lists it:
//! `Member,Group,JoinTime,Role,Type`. Read once here for the CLI, the examples and embedders.

use super::IngestError;
use crate::format;
use crate::model::{Account, GroupMember};
use std::path::Path;

/// The header a member list must have.
pub const HEADER: [&str; 5] = ["Member", "Group", "JoinTime", "Role", "Type"];

/// Read and check the member list of `group` (roles MEMBER, MANAGER or OWNER; types USER or
/// GROUP; every row of that group; member addresses normalised).
pub fn read(path: &Path, group: &str) -> Result<Vec<GroupMember>, IngestError> {
    let bad = |reason: String| IngestError::BadMembers { path: path.to_path_buf(), reason };
    let file = std::fs::File::open(path)
        .map_err(|e| IngestError::Io { path: path.to_path_buf(), source: e })?;
    let (header, rows) = format::csv::read(file).map_err(|e| bad(e.to_string()))?;
    if header != HEADER {
        return Err(bad(format!("the header must be {}", HEADER.join(","))));
    }
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let cell = |k: usize| format::csv::unguard(&r[k]).trim().to_owned();
        let (role, kind) = (cell(3).to_ascii_uppercase(), cell(4).to_ascii_uppercase());
        if !["MEMBER", "MANAGER", "OWNER"].contains(&role.as_str())
            || !["USER", "GROUP"].contains(&kind.as_str())
        {
            return Err(bad(format!(
                "row {}: Role must be MEMBER, MANAGER or OWNER and Type USER or GROUP",
                i + 2
            )));
        }
        if !cell(1).eq_ignore_ascii_case(group) {
            return Err(bad(format!("row {}: group {} is not {group}", i + 2, cell(1))));
        }
        let member = Account::new(&cell(0)).map_err(|e| bad(format!("row {}: {e}", i + 2)))?;
        out.push(GroupMember {
            member: member.to_string(),
            group: group.to_owned(),
            join_time: cell(2),
            role,
            kind,
        });
    }
    Ok(out)
}
