import Foundation

/// The ticket list sample of the official LiveChat REST API v2.0 documentation (livechat/livechat-public-docs,
/// `src/pages/management/configuration-api/v2.0/index.mdx`, line 3864), with its `// ...` placeholder removed. The docs show
/// this same sample for the single-ticket, create and update-tags answers too.
enum DocsSamples {
    static let ticketList = #"""
{
  "pages": 1,
  "total": 15,
  "tickets": [
    {
      "assignee": {
        "id": "jane.doe@mycompany.com",
        "name": "Jane Doe"
      },
      "events": [
        {
          "author": {
            "id": "mary.brown@email.com",
            "name": "Mary Brown",
            "type": "client"
          },
          "date": 1384554260,
          "is_private": false,
          "message": "Hello,\n\nIt seems that my new shoes are broken. What can we do about this?",
          "type": "message",
          "source": {
            "type": "mail"
          }
        },
        {
          "to": {
            "id": "jane.doe@mycompany.com",
            "name": "Jane Doe"
          },
          "author": {
            "id": "john.doe@mycompany.com",
            "name": "John Doe"
          },
          "date": 1384554270,
          "type": "assignee_changed"
        },
        {
          "message": "Jane, could you please find a moment to handle this customer's complaint?",
          "is_private": true,
          "author": {
            "type": "agent",
            "id": "john.doe@mycompany.com",
            "name": "John Doe"
          },
          "date": 1384554322,
          "type": "message",
          "source": {
            "type": "lc2"
          }
        }
      ],
      "id": "5FUED",
      "requester": {
        "mail": "mary.brown@email.com",
        "name": "Mary Brown"
      },
      "groups": [
        0
      ],
      "status": "open",
      "subject": "My new shoes are broken",
      "modified": 1384790802,
      "source": {
        "type": "mail"
      },
      "opened": [
        {
          "from": 1384554260
        }
      ],
      "firstResponse": {},
      "tags": [
        "sales",
        "support",
        "feedback"
      ]
    }
  ]
}
"""#

    /// The one ticket of the sample, as `GET /tickets/{id}` returns a ticket.
    static var ticket: String {
        let page = try! JSONSerialization.jsonObject(with: Data(ticketList.utf8)) as! [String: Any]
        let ticket = (page["tickets"] as! [Any])[0]
        return String(decoding: try! JSONSerialization.data(withJSONObject: ticket), as: UTF8.self)
    }
}
