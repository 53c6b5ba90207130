// `<time datetime data-local-time>` elements show UTC from the server; this shows them in the
// reader's own time zone and language instead (the UTC text stays in the title).

const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function showLocalTimes(root = document) {
  for (const element of root.querySelectorAll("time[data-local-time]")) {
    const moment = new Date(element.dateTime);
    if (!Number.isNaN(moment.getTime())) element.textContent = format.format(moment);
  }
}

showLocalTimes();
