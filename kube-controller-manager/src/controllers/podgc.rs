//! placeholder

pub async fn run(_ctx: super::Ctx) -> anyhow::Result<()> {
    Ok(())
}
