// The campaign view: everything tier-1 returns, laid out for reading, with
// copy buttons and Markdown / JSON / CSV exports made in the browser.
import { h, clear, copyButton, download, localUrl, asList, asText } from './dom.js';
import { photos } from './newcampaign.js';
import { toMarkdown, calendarCsv, slug } from './export.js';

function section(title, ...body) {
  const id = `sec-${slug(title)}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h3', { id }, title), ...body);
}

function list(items) {
  const xs = asList(items);
  if (xs.length === 0) return h('p', { class: 'help' }, 'None.');
  return h('ul', {}, xs.map((x) => h('li', {}, asText(x))));
}

function productPart(res, c) {
  const img = (c.product && c.product.image) || {};
  const labels = asList(img.labels);
  const local = photos.get(res.product_id);
  // The uploaded photo is private; only this tab's own copy is shown.
  const pic = local
    ? h('img', { class: 'product-photo', src: local, alt: 'The product photo' })
    : h('p', { class: 'help' }, 'The photo is stored privately with the upload and is not shown here.');
  return section('Product',
    h('div', { class: 'product' }, pic,
      h('div', {},
        h('p', {}, (c.product && c.product.description) || ''),
        h('h4', {}, 'Labels found in the photo'),
        labels.length
          ? h('ul', { class: 'chips' }, labels.map((l) => h('li', {}, `${l.name} ${l.confidence !== undefined ? `${Math.round(Number(l.confidence))}%` : ''}`)))
          : h('p', { class: 'help' }, 'No labels.'))));
}

function calendarPart(camp, idx) {
  const cal = camp.calendar || {};
  const weeks = Object.keys(cal);
  const caption = `${camp.name || `Plan ${idx + 1}`}: ${camp.duration || ''}, ${camp.posts_per_week || '?'} posts a week on ${asList(camp.platforms).join(', ')}`;
  const table = h('table', { class: 'calendar' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Week'), h('th', { scope: 'col' }, 'Phase'), h('th', { scope: 'col' }, 'Focus'), h('th', { scope: 'col' }, 'Posts'))),
    h('tbody', {}, weeks.map((w) => {
      const v = cal[w] || {};
      const posts = typeof v === 'object' && !Array.isArray(v) ? v.posts : v;
      return h('tr', {},
        h('th', { scope: 'row' }, w),
        h('td', {}, (v && v.phase) || ''),
        h('td', {}, (v && v.focus) || ''),
        h('td', {}, h('ul', {}, asList(posts).map((p) => h('li', {}, asText(p))))));
    })));
  const extra = [];
  if (camp.estimated_reach !== undefined) extra.push(h('li', {}, `Estimated reach: ${asText(camp.estimated_reach)}`));
  if (camp.engagement_score !== undefined) extra.push(h('li', {}, `Engagement score: ${asText(camp.engagement_score)}`));
  const adaptations = camp.adaptations && typeof camp.adaptations === 'object'
    ? h('dl', { class: 'adaptations' }, Object.entries(camp.adaptations).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, asText(v))]))
    : null;
  return h('div', { class: 'plan' }, h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': `Calendar of ${camp.name || 'the plan'}` }, table),
    extra.length ? h('ul', {}, extra) : null,
    adaptations ? h('h4', {}, 'Adaptations') : null, adaptations);
}

function ideasPart(c) {
  const byPlatform = new Map();
  for (const idea of asList(c.content_ideas)) {
    const p = idea.platform || 'Other';
    if (!byPlatform.has(p)) byPlatform.set(p, []);
    byPlatform.get(p).push(idea);
  }
  if (byPlatform.size === 0) return section('Content ideas', h('p', { class: 'help' }, 'None.'));
  return section('Content ideas', ...Array.from(byPlatform, ([p, ideas]) => h('div', {},
    h('h4', {}, p),
    h('ul', { class: 'cards' }, ideas.map((i) => h('li', { class: 'idea' },
      h('p', { class: 'topic' }, i.topic || ''),
      h('p', {}, i.caption || ''),
      h('p', { class: 'tags' }, asList(i.hashtags).map((t) => (String(t).startsWith('#') ? t : `#${t}`)).join(' ')),
      h('p', { class: 'score' }, `Engagement score ${i.engagement_score ?? '?'} / 100`),
      copyButton(`Copy the ${p} caption`, () => `${i.caption || ''}\n${asList(i.hashtags).join(' ')}`)))))));
}

function assetsPart(c, onPrompt) {
  const g = c.generated_assets || {};
  const block = (title, text, label) => h('li', { class: 'asset' },
    h('h5', {}, title), h('pre', {}, text), copyButton(label, () => text));
  return section('Generated assets',
    h('h4', {}, 'Video scripts'),
    h('ul', { class: 'assets' }, asList(g.video_scripts).map((s, i) => block(s.type || `Script ${i + 1}`, asText(s.content), `Copy video script ${i + 1}`))),
    h('h4', {}, 'Email templates'),
    h('ul', { class: 'assets' }, asList(g.email_templates).map((e, i) => block(e.subject || `Email ${i + 1}`,
      `Subject: ${e.subject || ''}\n\n${asText(e.body)}`, `Copy email template ${i + 1}`))),
    h('h4', {}, 'Blog outlines'),
    h('ul', { class: 'assets' }, asList(g.blog_outlines).map((b, i) => block(b.title || `Outline ${i + 1}`,
      [b.title, '', b.introduction, '', ...asList(b.points).map((p) => `- ${asText(p)}`)].join('\n'), `Copy blog outline ${i + 1}`))),
    h('h4', {}, 'Image prompts'),
    h('ul', { class: 'assets' }, asList(g.image_prompts).map((p, i) => h('li', { class: 'asset' },
      h('p', {}, asText(p)),
      h('button', { type: 'button', class: 'small', onclick: () => onPrompt(asText(p)) }, `Make an image from prompt ${i + 1}`)))));
}

function insightsPart(c, markets) {
  const mi = c.market_insights || {};
  const prefs = asList(mi.audience_preferences).map(asText);
  const per = markets.map((m) => [m, prefs.filter((p) => p.startsWith(`${m}:`))]).filter(([, xs]) => xs.length);
  const rest = prefs.filter((p) => !per.some(([, xs]) => xs.includes(p)));
  return section('Market insights',
    per.length ? h('div', { class: 'markets' }, per.map(([m, xs]) => h('div', { class: 'market' }, h('h4', {}, m), list(xs.map((x) => x.slice(m.length + 1).trim()))))) : null,
    rest.length ? h('div', {}, h('h4', {}, 'Audience'), list(rest)) : null,
    h('h4', {}, 'Trending content types'), list(mi.trending_content_types),
    h('h4', {}, 'Cultural considerations'), list(mi.cultural_considerations),
    c.platform_recommendations ? h('h4', {}, 'Platforms') : null,
    c.platform_recommendations ? h('p', {}, `${asList(c.platform_recommendations.primary_platforms).join(', ')}. ${c.platform_recommendations.rationale || ''}`) : null,
    h('h4', {}, 'Recommendations'),
    h('ul', {}, asList(c.recommendations).map((r) => h('li', {}, h('strong', {}, `${r.title || ''}`), ` (${r.type || ''}): ${r.description || ''}`))));
}

function analyticsPart(c) {
  const a = c.analytics || {};
  const rows = [['Estimated reach', a.estimatedReach], ['Reach change', a.reachChange], ['Engagement change', a.engagementChange],
    ['Conversion rate', a.conversionRate], ['Estimated views', a.estimatedViews], ['Projected shares', a.projectedShares], ['New followers', a.newFollowers]]
    .filter(([, v]) => v !== undefined);
  const fmt = (v) => (typeof v === 'number' ? v.toLocaleString('en') : asText(v));
  return section('Estimates',
    h('p', { class: 'note' }, a.is_estimate === false ? 'Measured figures.' : 'These are estimates, not measured results.'),
    h('dl', { class: 'figures' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, fmt(v))])),
    a.method ? h('p', { class: 'help' }, `Method: ${a.method}`) : null);
}

function videosPart(c) {
  const vids = asList(c.related_youtube_videos);
  return section('Related videos', vids.length === 0 ? h('p', { class: 'help' }, 'No related videos (video search is off or found nothing).')
    : h('ul', { class: 'videos' }, vids.map((v) => h('li', {},
      h('a', { href: v.url, rel: 'noopener noreferrer', target: '_blank' },
        (v.thumbnail_url || v.thumbnailUrl) ? h('img', { src: v.thumbnail_url || v.thumbnailUrl, alt: '', loading: 'lazy', width: 160, height: 90 }) : null,
        h('span', {}, v.title || v.video_id)),
      h('p', { class: 'help' }, `${v.channel_title || v.channelTitle || ''} · ${Number(v.viewCount || 0).toLocaleString('en')} views`)))));
}

// Renders res (tier-1's 200 or a completed campaign status) into el.
export function renderCampaign(el, res, { onPrompt, markets = [] } = {}) {
  clear(el);
  const c = res.campaign || {};
  const title = (c.campaigns && c.campaigns[0] && c.campaigns[0].name) || 'Campaign';
  const name = res.product_name || (c.product && c.product.name) || title;
  const cost = res.cost_usd ?? (res.campaign && res.campaign.cost_usd);
  const meta = h('dl', { class: 'meta' },
    h('dt', {}, 'Generated by'), h('dd', { class: 'method' }, res.generation_method || 'unknown'),
    h('dt', {}, 'Cost'), h('dd', {}, cost !== undefined ? `${Number(cost).toFixed(4)} USD (estimated)` : 'not reported by this route'),
    h('dt', {}, 'Product id'), h('dd', {}, h('code', {}, res.product_id || '')),
    h('dt', {}, 'Correlation id'), h('dd', {}, h('code', {}, res.correlation_id || '')));
  const warnings = asList(res.warnings);
  const warn = warnings.length
    ? h('div', { class: 'warnings', role: 'note' }, h('h3', {}, 'Warnings'), h('p', {}, 'Parts of this campaign were made with less information than usual:'), list(warnings))
    : h('p', { class: 'help' }, 'No warnings: every stage ran normally.');
  const exports = h('div', { class: 'actions' },
    h('button', { type: 'button', onclick: () => download(`${slug(title)}.md`, 'text/markdown', toMarkdown(res)) }, 'Export Markdown'),
    h('button', { type: 'button', onclick: () => download(`${slug(title)}.json`, 'application/json', JSON.stringify(res, null, 2)) }, 'Export JSON'),
    h('button', { type: 'button', onclick: () => download(`${slug(title)}-calendar.csv`, 'text/csv', calendarCsv(res)) }, 'Calendar CSV'));
  el.append(h('p', { class: 'lead' }, name), meta, warn, exports,
    productPart(res, c),
    section('Calendar', ...asList(c.campaigns).map(calendarPart)),
    ideasPart(c), assetsPart(c, onPrompt || (() => {})), insightsPart(c, markets), analyticsPart(c), videosPart(c));
}
